/**
 * Where one request's TTFT went (sample.breakdown) and where its prompt tokens came from
 * (sample.tokens), from the client's own timestamps and, once joined, the engine's /perf_metrics
 * entry. Engine steady-clock times are moved onto the agent's monotonic clock with the run's
 * ClockRelation (engine − agent); every duration is divided by the time scale, like ttft_s, so
 * the five parts add up to ttft_s.
 */
import type { RequestTokens, Sample, TtftBreakdown } from '@kvbench/common';
import { monotonicSeconds, type Instant } from './clock.js';
import type { ClockRelation, PerfEntry } from './stats/perf-metrics.js';

/** The client's side of one request, on the agent's clock. */
export interface ClientTimes {
  /** Released by the schedule (the request's clock starts here). */
  scheduledAt: Instant;
  /** The request's bytes handed to the socket; null when it never got that far. */
  writtenAt: Instant | null;
  firstTextAt: Instant | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function clientWait(t: ClientTimes, timeScale: number, reasons: Record<string, string>): number | null {
  if (t.writtenAt === null) {
    reasons.client_wait_s = 'the request was never written to the engine (it failed first)';
    return null;
  }
  return (monotonicSeconds(t.writtenAt) - monotonicSeconds(t.scheduledAt)) / timeScale;
}

/** Before (or without) an engine entry: only the client's wait is known. */
export function clientOnlyBreakdown(t: ClientTimes, timeScale: number, engineReason: string): TtftBreakdown {
  const null_reasons: Record<string, string> = {};
  const client_wait_s = clientWait(t, timeScale, null_reasons);
  for (const k of ['to_engine_s', 'engine_queue_s', 'first_token_s', 'to_client_s']) null_reasons[k] = engineReason;
  return { client_wait_s, to_engine_s: null, engine_queue_s: null, first_token_s: null, to_client_s: null, clock: null, joined_by: null, null_reasons };
}

/** The breakdown from the request's /perf_metrics entry. */
export function engineBreakdown(e: PerfEntry, t: ClientTimes, clock: ClockRelation, timeScale: number, joinedBy: string): TtftBreakdown {
  const null_reasons: Record<string, string> = {};
  const tm = e.perf_metrics?.timing_metrics ?? {};
  const arrival = num(tm.arrival_time);
  const sched = num(tm.first_scheduled_time);
  const first = num(tm.first_token_time);
  const missing = (k: string, field: string) => (null_reasons[k] = `the engine's entry has no timing_metrics.${field}`);
  if (arrival === null) missing('engine_queue_s', 'arrival_time');
  if (sched === null) (missing('engine_queue_s', 'first_scheduled_time'), missing('first_token_s', 'first_scheduled_time'));
  if (first === null) missing('first_token_s', 'first_token_time');

  const span = (a: number | null, b: number | null) => (a !== null && b !== null ? (b - a) / timeScale : null);
  // Engine → agent clock; null when the two clocks are not related.
  const onAgent = (engineS: number | null) => (engineS === null || clock.offsetS === null ? null : engineS - clock.offsetS);
  const unrelated = 'the engine clock is not related to the agent clock (remote engine without GET /steady_clock_offset)';

  const written = t.writtenAt === null ? null : monotonicSeconds(t.writtenAt);
  const firstText = t.firstTextAt === null ? null : monotonicSeconds(t.firstTextAt);
  const to_engine_s = span(written, onAgent(arrival));
  if (to_engine_s === null) null_reasons.to_engine_s = clock.offsetS === null ? unrelated : written === null ? 'the request was never written' : "the engine's entry has no arrival_time";
  const to_client_s = span(onAgent(first), firstText);
  if (to_client_s === null)
    null_reasons.to_client_s = clock.offsetS === null ? unrelated : firstText === null ? 'no generated text reached the client' : "the engine's entry has no first_token_time";

  // A part below zero by no more than rounding (the virtual clock's nanoseconds; 1 µs) is zero.
  // Anything more negative is not a duration kvbench can vouch for (the clocks disagree within
  // their error bound, or a stamp came late on a starved event loop): null with the reason, never
  // a negative figure (clamping it would break Σ parts = TTFT by as much).
  const slack = 1e-6 / timeScale;
  const nonNegative = (k: string, v: number | null): number | null => {
    if (v === null || v >= 0) return v;
    if (v >= -slack) return 0;
    null_reasons[k] = `came out negative (${(v * 1e3).toFixed(3)} ms; clock relation's error ${((clock.errorS ?? 0) * 1e3 / timeScale).toFixed(3)} ms): the engine's and the client's timestamps disagree by more than rounding (${clock.how})`;
    return null;
  };
  const out: TtftBreakdown = {
    client_wait_s: nonNegative('client_wait_s', clientWait(t, timeScale, null_reasons)),
    to_engine_s: nonNegative('to_engine_s', to_engine_s),
    engine_queue_s: nonNegative('engine_queue_s', span(arrival, sched)),
    first_token_s: nonNegative('first_token_s', span(sched, first)),
    to_client_s: nonNegative('to_client_s', to_client_s),
    clock: clock.how,
    clock_error_s: clock.offsetS === null || clock.errorS === undefined ? null : clock.errorS / timeScale,
    joined_by: joinedBy,
    null_reasons,
  };

  // Only the simulator knows its own onboard copies and prefill compute (steady-clock seconds, like timing_metrics).
  const sim = isRecord(e['sim']) ? e['sim'] : null;
  const onboard = num(sim?.['onboard_s']);
  const prefill = num(sim?.['prefill_s']);
  if (onboard !== null && prefill !== null) {
    out.onboard_s = onboard / timeScale;
    out.prefill_s = prefill / timeScale;
    // The simulator's iteration time is at least a request's own copies plus its own compute, so the
    // rest is ≥ 0; the clamp only absorbs the nanosecond rounding of its clock mapping.
    out.batch_other_s = out.first_token_s === null ? null : Math.max(0, out.first_token_s - out.onboard_s - out.prefill_s);
  } else {
    out.onboard_s = null;
    out.prefill_s = null;
    out.batch_other_s = null;
    const why = "the engine's per-request timings do not split KV onboarding from prefill (TensorRT-LLM reports first_scheduled_time and first_token_time only)";
    null_reasons.onboard_s = null_reasons.prefill_s = null_reasons.batch_other_s = why;
  }
  return out;
}

/**
 * Prompt tokens by tier. Exact from the simulator's block manager; from another engine only the
 * cached total (usage.cached_tokens, else the reused-block count × tokens_per_block) and its
 * complement are known, not which tier served them.
 */
export function requestTokens(sample: Sample, e: PerfEntry | null, tokensPerBlock: number | null, joinReason: string | null): RequestTokens {
  const prompt = sample.prompt_tokens_server ?? sample.prompt_tokens_client;
  const sim = e && isRecord(e['sim']) && isRecord(e['sim']['tokens']) ? (e['sim']['tokens'] as Record<string, unknown>) : null;
  if (sim && num(sim['gpu_hit']) !== null && num(sim['host_onboarded']) !== null && num(sim['recomputed']) !== null) {
    const gpu = num(sim['gpu_hit'])!;
    const host = num(sim['host_onboarded'])!;
    return { gpu_hit: gpu, host_onboarded: host, recomputed: num(sim['recomputed'])!, cached: gpu + host, source: 'simulator block manager (/perf_metrics sim.tokens)', null_reasons: {} };
  }
  const tierReason = e
    ? "TensorRT-LLM's per-request kv_cache_metrics count reused blocks without saying whether they were on the GPU or onboarded from host"
    : (joinReason ?? 'the engine gave no per-request cache figures');
  let cached: number | null = null;
  let source: string | null = null;
  if (sample.cached_tokens !== null) {
    cached = sample.cached_tokens;
    source = 'usage.prompt_tokens_details.cached_tokens';
  } else {
    const reused = num(e?.perf_metrics?.kv_cache_metrics?.num_reused_blocks);
    if (reused !== null && tokensPerBlock !== null) {
      // A fully reused prompt still computes its last token.
      cached = Math.min(reused * tokensPerBlock, Math.max(prompt - 1, 0));
      source = 'kv_cache_metrics.num_reused_blocks × tokens_per_block';
    }
  }
  const null_reasons: Record<string, string> = { gpu_hit: tierReason, host_onboarded: tierReason };
  if (cached === null) null_reasons.recomputed = null_reasons.cached = e ? 'the engine reported neither cached_tokens nor reused blocks' : tierReason;
  return { gpu_hit: null, host_onboarded: null, recomputed: cached === null ? null : prompt - cached, cached, source, null_reasons };
}
