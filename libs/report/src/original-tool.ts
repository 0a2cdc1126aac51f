import type { LogMetrics, OriginalToolRun, ResultsDocument, ResultsFile, RunResult, Sample } from '@kvbench/common';
import { runIdOf, runMeta, systemLabelOf } from './meta.js';

/**
 * Runs written by the original benchmark_kv_offload.py, read as kvbench runs so every report
 * path takes them: a view that keeps the original's figures and says what they are. The tool
 * timed each batch as a whole and gave that wall time to every request of the batch as TTFT
 * and latency, and its log parsing never found a cache figure (DESIGN.md, "Lessons from the
 * original"). The file itself is never rewritten from these views.
 */

export const ORIGINAL_TOOL = 'benchmark_kv_offload.py';
const FROM = `the original tool (${ORIGINAL_TOOL})`;
// Its log parsing looked for lines TensorRT-LLM never writes.
const NO_CACHE_FIGURES = 'not measured by the original tool';
const CACHE_FIELDS = ['cache_hit_rate', 'reused_blocks', 'offloaded_blocks', 'observed_offload_bandwidth_gbps', 'onboarded_blocks'] as const;
/** The original records no cold/reuse phase; a sample of this phase counts in the all-requests row only. */
const UNKNOWN_PHASE = 'unknown' as Sample['phase'];

/** Every run of a results file as a kvbench run; the original tool's become marked views. */
export function resultsDocumentOf(file: ResultsFile): ResultsDocument {
  const runs: ResultsDocument['runs'] = {};
  for (const [label, list] of Object.entries(file.runs)) {
    runs[label] = list.map((stored) => (stored.origin === 'kvbench' ? stored.run : fromOriginalTool(stored.run, label)));
  }
  return { runs };
}

export function isFromOriginalTool(run: RunResult): boolean {
  return runMeta(run).results_from === FROM;
}

/** Ids the views carry until paired: two runs of the original tool pair with each other by position. */
const positionId = (batch: number, index: number) => `batch${batch}-request${index}`;
const positionKey = (s: { batch_index: number; index_in_batch: number }) => `${s.batch_index}:${s.index_in_batch}`;

export function fromOriginalTool(run: OriginalToolRun, label: string): RunResult {
  // Batches ran one after another (with the workload's delay before each, which the file does not
  // keep): a batch starts no earlier than the sum of the wall times before it.
  const wall = new Map<number, number>();
  for (const s of run.samples) wall.set(s.batch_index, Math.max(wall.get(s.batch_index) ?? 0, s.total_latency_seconds ?? 0));
  const startOf = new Map<number, number>();
  let t = 0;
  for (const b of [...wall.keys()].sort((x, y) => x - y)) {
    startOf.set(b, t);
    t += wall.get(b)!;
  }
  const samples: Sample[] = run.samples.map((s) => {
    const id = positionId(s.batch_index, s.request_index_in_batch);
    const measured = s.ttft_seconds !== null && s.total_latency_seconds !== null;
    return {
      request_id: id,
      batch_index: s.batch_index,
      index_in_batch: s.request_index_in_batch,
      prompt_id: id,
      context_tokens: s.context_tokens,
      phase: UNKNOWN_PHASE,
      scheduled_at_s: startOf.get(s.batch_index) ?? 0,
      ttft_s: s.ttft_seconds,
      latency_s: s.total_latency_seconds,
      itl_s: [],
      // Token counts were never recorded by the original; no report figure reads these two.
      prompt_tokens_client: 0,
      completion_tokens_client: 0,
      prompt_tokens_server: null,
      completion_tokens_server: null,
      cached_tokens: null,
      ok: measured,
      error: measured ? null : 'no timing recorded by the original tool',
      server: null,
      ...(s.prompt_chars !== undefined ? { prompt_chars: s.prompt_chars } : {}),
    };
  });
  const lm = run.log_metrics ?? {};
  const log_metrics: LogMetrics = {
    cache_hit_rate: lm.cache_hit_rate ?? null,
    reused_blocks: lm.reused_blocks ?? null,
    offloaded_blocks: lm.offloaded_blocks ?? null,
    observed_offload_bandwidth_gbps: lm.observed_offload_bandwidth_gbps ?? null,
    sources: {},
    null_reasons: Object.fromEntries(CACHE_FIELDS.filter((k) => (lm as Record<string, unknown>)[k] == null).map((k) => [k, NO_CACHE_FIGURES])),
  };
  const aggregate = { ...run.aggregate } as RunResult['aggregate'];
  for (const k of ['throughput_req_per_s', 'ttft_p50_s', 'ttft_p95_s', 'ttft_p99_s', 'latency_p50_s', 'latency_p95_s', 'latency_p99_s'] as const) {
    aggregate[k] ??= null;
  }
  // The mark is kept in run_meta, so the HTML report's metadata table shows it too.
  return { aggregate, log_metrics, samples, run_meta: { system_label: label, ...(run.run_meta ?? {}), results_from: FROM } };
}

/**
 * Match each original-tool view to a kvbench run of the same workload, request by request:
 * the view takes that run's request ids (so the comparison pairs them) and phases. It is the
 * same request only when the kvbench run has a sample at every (batch index, index in batch)
 * of the view and no other, with the same context size at each: the original batches replayed
 * in the same order. Otherwise the view is left as it is, and says why.
 */
export function pairOriginalToolRuns(runs: readonly RunResult[]): RunResult[] {
  const natives = runs.filter((r) => !isFromOriginalTool(r));
  return runs.map((run) => {
    if (!isFromOriginalTool(run)) return run;
    const reasons: string[] = [];
    for (const native of natives) {
      const mismatch = positionsDiffer(run.samples, native.samples);
      if (mismatch) {
        reasons.push(`${describe(native)}: ${mismatch}`);
        continue;
      }
      const byPosition = new Map(native.samples.map((s) => [positionKey(s), s]));
      const samples = run.samples.map((s) => {
        const twin = byPosition.get(positionKey(s))!;
        return { ...s, request_id: twin.request_id, prompt_id: twin.prompt_id, phase: twin.phase };
      });
      const pairing = `paired with ${describe(native)} by (batch index, index in batch): the same ${samples.length} requests in the same batches and context sizes`;
      return { ...run, samples, run_meta: { ...runMeta(run), pairing } };
    }
    const pairing =
      natives.length === 0
        ? 'no kvbench run to pair with'
        : `not paired with a kvbench run request by request (${reasons.join('; ')})`;
    return { ...run, run_meta: { ...runMeta(run), pairing } };
  });
}

function positionsDiffer(view: readonly Sample[], native: readonly Sample[]): string | null {
  if (view.length !== native.length) return `${native.length} requests, the original's run has ${view.length}`;
  const ctx = new Map(native.map((s) => [positionKey(s), s.context_tokens]));
  for (const s of view) {
    const c = ctx.get(positionKey(s));
    if (c === undefined) return `no request at batch ${s.batch_index}, index ${s.index_in_batch}`;
    if (c !== s.context_tokens) return `batch ${s.batch_index} has ${c}-token contexts, the original's ${s.context_tokens}`;
  }
  return null;
}

const describe = (run: RunResult) => `${systemLabelOf(run) ?? 'run'} ${runIdOf(run) ?? ''}`.trim();

/** What a reader of a comparison must know about the original tool's runs in it. */
export function originalToolNotes(runs: readonly RunResult[]): string[] {
  return runs.filter(isFromOriginalTool).map((run) => {
    const m = runMeta(run);
    const when = typeof m.timestamp_utc === 'string' ? `, ${m.timestamp_utc}` : '';
    // Its streaming attempt, had it worked, timed a first token from the batch's start; its fallback gave the batch's wall time.
    const ttft = run.samples.every((s) => s.ttft_s === s.latency_s)
      ? 'its TTFT and latency are the wall time of the whole batch, given to every request in it (it never measured a first token)'
      : "its latency is the wall time of the whole batch, given to every request in it, and its TTFT runs from the batch's start";
    const paired = typeof m.pairing === 'string' ? m.pairing : 'not paired request by request with a kvbench run';
    const phases = run.samples.some((s) => s.phase === UNKNOWN_PHASE) ? '; it records no cold/reuse phase, so its requests count in the all-requests row only' : '';
    return `${systemLabelOf(run) ?? 'a run'} is from ${FROM}${when}: ${ttft}, and it has no cache figures; ${paired}${phases}`;
  });
}
