import type { Database } from 'better-sqlite3';

/**
 * A run's samples as columns, in workload order (batch, index in batch): what
 * comparisons and statistics need, read from indexed columns without parsing
 * each sample's JSON. Missing TTFT or latency (failed requests) are NaN.
 */
export interface SampleColumns {
  length: number;
  request_id: string[];
  batch_index: Int32Array;
  index_in_batch: Int32Array;
  context_tokens: Int32Array;
  phase: ('cold' | 'reuse')[];
  ok: Uint8Array;
  scheduled_at_s: Float64Array;
  ttft_s: Float64Array;
  latency_s: Float64Array;
}

/** Columns of the result attempt (or the attempt named); null when the run has no such attempt. */
export function sampleColumns(db: Database, runId: string, attempt?: number): SampleColumns | null {
  const a =
    attempt ??
    (db.prepare("SELECT result_attempt FROM runs WHERE run_id = ? AND status = 'completed'").get(runId) as { result_attempt: number } | undefined)
      ?.result_attempt;
  if (a === undefined) return null;
  // raw(): rows as arrays, the cheapest shape better-sqlite3 returns.
  const rows = db
    .prepare(
      `SELECT request_id, batch_index, index_in_batch, context_tokens, phase, ok, scheduled_at_s, ttft_s, latency_s
       FROM samples WHERE run_id = ? AND attempt = ? ORDER BY batch_index, index_in_batch, id`,
    )
    .raw(true)
    .all(runId, a) as [string, number, number, number, 'cold' | 'reuse', number, number, number | null, number | null][];
  const n = rows.length;
  const c: SampleColumns = {
    length: n,
    request_id: new Array<string>(n),
    batch_index: new Int32Array(n),
    index_in_batch: new Int32Array(n),
    context_tokens: new Int32Array(n),
    phase: new Array<'cold' | 'reuse'>(n),
    ok: new Uint8Array(n),
    scheduled_at_s: new Float64Array(n),
    ttft_s: new Float64Array(n),
    latency_s: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    c.request_id[i] = r[0];
    c.batch_index[i] = r[1];
    c.index_in_batch[i] = r[2];
    c.context_tokens[i] = r[3];
    c.phase[i] = r[4];
    c.ok[i] = r[5];
    c.scheduled_at_s[i] = r[6];
    c.ttft_s[i] = r[7] ?? NaN;
    c.latency_s[i] = r[8] ?? NaN;
  }
  return c;
}
