/**
 * Joining TensorRT-LLM's per-request /perf_metrics to kvbench's samples.
 *
 * trtllm-serve keys an entry by its executor request id, which its OpenAI
 * responses do not carry (their ids are random). So entries are joined by id
 * when the engine does expose a matching one (the simulator puts the completion
 * id in `response_id`), and otherwise by time: on the engine's steady clock, the
 * request whose client-observed first text and end of stream are nearest to the
 * entry's first_token_time and last_token_time (greedy, lowest cost first). The
 * time join needs the two clocks related: the same host (both CLOCK_MONOTONIC)
 * or an offset from /steady_clock_offset.
 */
import type { Sample } from '@kvbench/common';
import { monotonicSeconds, type Instant } from '../clock.js';

export interface PerfTimingMetrics {
  arrival_time?: number;
  server_arrival_time?: number | null;
  first_scheduled_time?: number;
  first_token_time?: number;
  server_first_token_time?: number | null;
  last_token_time?: number;
}

export interface PerfKvCacheMetrics {
  num_total_allocated_blocks?: number;
  num_new_allocated_blocks?: number;
  num_reused_blocks?: number;
  num_missed_blocks?: number;
}

export interface PerfEntry {
  request_id?: number | string;
  /** Not in TensorRT-LLM: the OpenAI completion id, where an engine gives it (the simulator: response_id). */
  response_id?: string | null;
  openai_id?: string;
  perf_metrics?: {
    first_iter?: number;
    last_iter?: number;
    timing_metrics?: PerfTimingMetrics;
    kv_cache_metrics?: PerfKvCacheMetrics;
  };
  [k: string]: unknown;
}

/** A finished request waiting for its /perf_metrics entry. */
export interface JoinCandidate {
  sample: Sample;
  responseId: string | null;
  scheduledAt: Instant;
  /** When its bytes were handed to the socket (the TTFT breakdown's client wait ends here). */
  writtenAt?: Instant | null;
  firstTextAt: Instant | null;
  endAt: Instant;
}

export interface ClockRelation {
  /** engine steady-clock seconds − agent monotonic seconds; null when unknown (no time join). */
  offsetS: number | null;
  how: string;
  /** Bound on the offset's error (half the best /steady_clock_offset round trip); 0 on one host; absent when unknown. */
  errorS?: number;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * TensorRT-LLM main's per-request metrics as it streams them after [DONE] (`event: trtllm.perf_metrics`,
 * data: the response headers as a JSON object): `Server-Timing: server_queue;dur=…, server_ttft;dur=…,
 * server_e2e;dur=…` in milliseconds from arrival, `X-TRTLLM-Start-End-Time: server-start;ts=…,
 * server-end;ts=…` in steady-clock seconds. Rebuilt into a /perf_metrics-shaped entry the way
 * tensorrt_llm's own build_metrics_record_from_headers does; these carry no KV block counts.
 */
export function perfEntryFromMetricsHeaders(headers: Record<string, unknown>): PerfEntry | null {
  const list = (h: string) => (typeof headers[h] === 'string' ? (headers[h] as string).split(',').map((x) => x.trim()) : []);
  const t: PerfTimingMetrics = {};
  for (const item of list('X-TRTLLM-Start-End-Time')) {
    const [name, ts] = item.split(';ts=');
    const v = Number(ts);
    if (ts === undefined || !Number.isFinite(v)) continue;
    if (name === 'server-start') t.arrival_time = v;
    else if (name === 'server-end') t.last_token_time = v;
  }
  const dur: Record<string, number> = {};
  for (const item of list('Server-Timing')) {
    const [name, d] = item.split(';dur=');
    const v = Number(d);
    if (d !== undefined && name?.startsWith('server_') && Number.isFinite(v)) dur[name.slice('server_'.length)] = v / 1000;
  }
  if (t.arrival_time === undefined) return null; // durations alone cannot be placed on any clock
  const a = t.arrival_time;
  if (dur['queue'] !== undefined) t.first_scheduled_time = a + dur['queue'];
  if (dur['ttft'] !== undefined) t.first_token_time = a + dur['ttft'];
  if (t.last_token_time === undefined && dur['e2e'] !== undefined) t.last_token_time = a + dur['e2e'];
  return { perf_metrics: { timing_metrics: t } };
}

/** sample.server from one entry; durations divided by the time scale S. */
export function serverMetrics(e: PerfEntry, cand: JoinCandidate, clock: ClockRelation, timeScale: number, joinedBy: string): NonNullable<Sample['server']> {
  const t = e.perf_metrics?.timing_metrics ?? {};
  const kv = e.perf_metrics?.kv_cache_metrics ?? {};
  const arrival = num(t.arrival_time);
  const sched = num(t.first_scheduled_time);
  const first = num(t.first_token_time);
  const last = num(t.last_token_time);
  const d = (a: number | null, b: number | null) => (a !== null && b !== null ? (b - a) / timeScale : null);
  const scheduledOnEngineClock = clock.offsetS === null ? null : monotonicSeconds(cand.scheduledAt) + clock.offsetS;
  return {
    queue_s: d(arrival, sched),
    first_scheduled_s: d(scheduledOnEngineClock, sched),
    server_ttft_s: d(arrival, first),
    server_latency_s: d(arrival, last),
    reused_blocks: num(kv.num_reused_blocks),
    missed_blocks: num(kv.num_missed_blocks),
    new_allocated_blocks: num(kv.num_new_allocated_blocks),
    total_allocated_blocks: num(kv.num_total_allocated_blocks),
    engine_request_id: e.request_id ?? null,
    joined_by: joinedBy,
    // Raw engine steady-clock timestamps, for anyone re-deriving the figures.
    arrival_time: arrival,
    first_scheduled_time: sched,
    first_token_time: first,
    server_first_token_time: num(t.server_first_token_time),
    last_token_time: last,
    // When the engine handed the first token to its socket, where it says (the simulator does).
    first_token_sent_time: num((e['sim'] as Record<string, unknown> | undefined)?.['first_token_sent_time']),
    // The client's observations on the engine's clock (null when the clocks are not related).
    client_first_text_time: clock.offsetS === null || cand.firstTextAt === null ? null : monotonicSeconds(cand.firstTextAt) + clock.offsetS,
    client_end_time: clock.offsetS === null ? null : monotonicSeconds(cand.endAt) + clock.offsetS,
  };
}

const explicitId = (e: PerfEntry): string | undefined =>
  typeof e.response_id === 'string' ? e.response_id : typeof e.openai_id === 'string' ? e.openai_id : undefined;

const idMatches = (e: PerfEntry, responseId: string | null): boolean => {
  if (!responseId) return false;
  const explicit = explicitId(e);
  if (explicit !== undefined) return explicit === responseId;
  if (e.request_id === undefined) return false;
  const rid = String(e.request_id);
  return responseId === rid || responseId === `cmpl-${rid}` || responseId === `chatcmpl-${rid}`;
};

/**
 * Join entries to candidates. Returns the pairs and the entries left unmatched
 * (kept for the next round: an entry may arrive before its request's sample).
 */
export function joinPerfMetrics(
  entries: readonly PerfEntry[],
  candidates: readonly JoinCandidate[],
  clock: ClockRelation,
): { pairs: { entry: PerfEntry; cand: JoinCandidate; by: string }[]; unmatchedEntries: PerfEntry[] } {
  const pairs: { entry: PerfEntry; cand: JoinCandidate; by: string }[] = [];
  const usedCand = new Set<JoinCandidate>();
  const left: PerfEntry[] = [];
  const byId = new Map<string, JoinCandidate>();
  for (const c of candidates) if (c.responseId) byId.set(c.responseId, c);

  for (const e of entries) {
    let c: JoinCandidate | undefined;
    const explicit = explicitId(e);
    if (explicit !== undefined) c = byId.get(explicit);
    else if (e.request_id !== undefined) {
      const rid = String(e.request_id);
      c = byId.get(rid) ?? byId.get(`cmpl-${rid}`) ?? byId.get(`chatcmpl-${rid}`);
    }
    if (c && !usedCand.has(c) && idMatches(e, c.responseId)) {
      usedCand.add(c);
      pairs.push({ entry: e, cand: c, by: 'id' });
    } else left.push(e);
  }
  if (clock.offsetS === null || left.length === 0) return { pairs, unmatchedEntries: left };

  // Time join: cost = |Δ first token| + |Δ last token| on the engine clock.
  const offset = clock.offsetS;
  const scored: { e: PerfEntry; c: JoinCandidate; cost: number }[] = [];
  for (const e of left) {
    const t = e.perf_metrics?.timing_metrics;
    const first = num(t?.server_first_token_time) ?? num(t?.first_token_time);
    const last = num(t?.last_token_time);
    if (first === null || last === null) continue;
    for (const c of candidates) {
      if (usedCand.has(c) || c.firstTextAt === null) continue;
      const cf = monotonicSeconds(c.firstTextAt) + offset;
      const ce = monotonicSeconds(c.endAt) + offset;
      // The client sees a token after the engine emits it; allow 50 ms of clock error before.
      if (cf < first - 0.05) continue;
      scored.push({ e, c, cost: Math.abs(cf - first) + Math.abs(ce - last) });
    }
  }
  scored.sort((a, b) => a.cost - b.cost);
  const usedEntry = new Set<PerfEntry>();
  for (const s of scored) {
    if (usedEntry.has(s.e) || usedCand.has(s.c)) continue;
    usedEntry.add(s.e);
    usedCand.add(s.c);
    pairs.push({ entry: s.e, cand: s.c, by: `time (${clock.how})` });
  }
  return { pairs, unmatchedEntries: left.filter((e) => !usedEntry.has(e)) };
}
