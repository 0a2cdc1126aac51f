import type { Database } from 'better-sqlite3';
import type { Aggregate, LogMetrics, ResultsDocument, RunMeta, RunResult, Sample, TelemetrySummary } from '@kvbench/common';
import { telemetrySummary, telemetrySummaryJson } from './telemetry.js';

export interface ResultsFilter {
  workload_id?: string | undefined;
  system_label?: string | undefined;
  run_id?: string | undefined;
}

/** /results?summary=true: the results document without samples. */
export interface ResultsSummaryDocument {
  runs: Record<string, { aggregate: Aggregate; log_metrics: LogMetrics; run_meta: RunMeta; telemetry?: TelemetrySummary | null }[]>;
}

/** A completed run as it appears in /results, without its samples. */
export interface CompletedRun {
  run_id: string;
  system_label: string;
  workload_id: string | null;
  attempt: number;
  completed_at: string;
  aggregate: Aggregate;
  log_metrics: LogMetrics;
  run_meta: RunMeta;
}

interface CompletedRow {
  run_id: string;
  system_label: string;
  workload_id: string | null;
  attempt: number;
  completed_at: string;
  aggregate_json: string;
  log_metrics_json: string;
  run_meta_json: string;
}

/** Samples are read in pages so no statement stays open across awaits (one connection serves ingest and reads). */
const PAGE = 2000;

function completedRows(db: Database, filter: ResultsFilter): CompletedRow[] {
  const where = ["r.status = 'completed'"];
  const args: string[] = [];
  if (filter.workload_id !== undefined) (where.push('r.workload_id = ?'), args.push(filter.workload_id));
  if (filter.system_label !== undefined) (where.push('r.system_label = ?'), args.push(filter.system_label));
  if (filter.run_id !== undefined) (where.push('r.run_id = ?'), args.push(filter.run_id));
  return db
    .prepare(
      `SELECT r.run_id, r.system_label, r.workload_id, a.attempt, r.completed_at,
              a.aggregate_json, a.log_metrics_json, a.run_meta_json
       FROM runs r JOIN attempts a ON a.run_id = r.run_id AND a.attempt = r.result_attempt
       WHERE ${where.join(' AND ')}
       ORDER BY r.system_label, r.completed_at, r.run_id`,
    )
    .all(...args) as CompletedRow[];
}

function toCompleted(r: CompletedRow): CompletedRun {
  return {
    run_id: r.run_id,
    system_label: r.system_label,
    workload_id: r.workload_id,
    attempt: r.attempt,
    completed_at: r.completed_at,
    aggregate: JSON.parse(r.aggregate_json),
    log_metrics: JSON.parse(r.log_metrics_json),
    run_meta: JSON.parse(r.run_meta_json),
  };
}

/** Completed runs (their result attempt only), ordered by system label then completion time. */
export function listCompletedRuns(db: Database, filter: ResultsFilter = {}): CompletedRun[] {
  return completedRows(db, filter).map(toCompleted);
}

/**
 * The JSON text of a run's samples (result attempt, or the attempt named), in
 * workload order (batch, index in batch), page by page.
 */
export function* iterateSampleJson(db: Database, runId: string, attempt?: number): Generator<string> {
  const a = attempt ?? resultAttempt(db, runId);
  if (a === null) return;
  const first = db.prepare(
    `SELECT id, batch_index, index_in_batch, body FROM samples WHERE run_id = ? AND attempt = ?
     ORDER BY batch_index, index_in_batch, id LIMIT ?`,
  );
  const next = db.prepare(
    `SELECT id, batch_index, index_in_batch, body FROM samples WHERE run_id = ? AND attempt = ?
       AND (batch_index, index_in_batch, id) > (?, ?, ?)
     ORDER BY batch_index, index_in_batch, id LIMIT ?`,
  );
  type Row = { id: number; batch_index: number; index_in_batch: number; body: string };
  let page = first.all(runId, a, PAGE) as Row[];
  while (page.length > 0) {
    for (const row of page) yield row.body;
    if (page.length < PAGE) return;
    const last = page[page.length - 1]!;
    page = next.all(runId, a, last.batch_index, last.index_in_batch, last.id, PAGE) as Row[];
  }
}

/** A run's samples (result attempt, or the attempt named) in workload order; streams page by page. */
export function* iterateSamples(db: Database, runId: string, attempt?: number): Generator<Sample> {
  for (const body of iterateSampleJson(db, runId, attempt)) yield JSON.parse(body) as Sample;
}

function resultAttempt(db: Database, runId: string): number | null {
  const row = db.prepare("SELECT result_attempt FROM runs WHERE run_id = ? AND status = 'completed'").get(runId) as
    | { result_attempt: number }
    | undefined;
  return row?.result_attempt ?? null;
}

/** A completed run in the original results shape, or null when unknown or not completed. */
export function getRunResult(db: Database, runId: string): RunResult | null {
  const [run] = listCompletedRuns(db, { run_id: runId });
  if (!run) return null;
  return {
    aggregate: run.aggregate,
    log_metrics: run.log_metrics,
    samples: [...iterateSamples(db, runId, run.attempt)],
    run_meta: run.run_meta,
    telemetry: telemetrySummary(db, runId, run.attempt),
  };
}

/** The merged results document without samples: cheap whatever the number of stored samples. */
export function getResultsSummary(db: Database, filter: ResultsFilter = {}): ResultsSummaryDocument {
  const runs: ResultsSummaryDocument['runs'] = {};
  for (const r of listCompletedRuns(db, filter)) {
    (runs[r.system_label] ??= []).push({ aggregate: r.aggregate, log_metrics: r.log_metrics, run_meta: r.run_meta, telemetry: telemetrySummary(db, r.run_id, r.attempt) });
  }
  return { runs };
}

/** The merged results document with samples, fully in memory (small documents, tests, the CLI). */
export function getResults(db: Database, filter: ResultsFilter = {}): ResultsDocument {
  const runs: ResultsDocument['runs'] = {};
  for (const r of listCompletedRuns(db, filter)) {
    (runs[r.system_label] ??= []).push({
      aggregate: r.aggregate,
      log_metrics: r.log_metrics,
      samples: [...iterateSamples(db, r.run_id, r.attempt)],
      run_meta: r.run_meta,
      telemetry: telemetrySummary(db, r.run_id, r.attempt),
    });
  }
  return { runs };
}

/**
 * The merged results document as JSON text chunks, samples copied from storage
 * without re-parsing, so a million-sample document streams in bounded memory.
 */
export function* resultsJsonChunks(db: Database, filter: ResultsFilter = {}): Generator<string> {
  const rows = completedRows(db, filter);
  yield '{"runs":{';
  let label: string | null = null;
  let firstRun = true;
  for (const r of rows) {
    if (r.system_label !== label) {
      yield `${label === null ? '' : '],'}${JSON.stringify(r.system_label)}:[`;
      label = r.system_label;
      firstRun = true;
    }
    yield `${firstRun ? '' : ','}{"aggregate":${r.aggregate_json},"log_metrics":${r.log_metrics_json},"samples":[`;
    firstRun = false;
    let chunk: string[] = [];
    let first = true;
    for (const body of iterateSampleJson(db, r.run_id, r.attempt)) {
      chunk.push(body);
      if (chunk.length === PAGE) {
        yield (first ? '' : ',') + chunk.join(',');
        first = false;
        chunk = [];
      }
    }
    if (chunk.length) yield (first ? '' : ',') + chunk.join(',');
    yield `],"run_meta":${r.run_meta_json},"telemetry":${telemetrySummaryJson(db, r.run_id, r.attempt)}}`;
  }
  yield label === null ? '}}' : ']}}';
}

/** For each system label, the latest completed run of a workload (what /compare pairs by default). */
export function latestRunsByWorkload(db: Database, workloadId: string): CompletedRun[] {
  const rows = db
    .prepare(
      `SELECT r.run_id, r.system_label, r.workload_id, a.attempt, r.completed_at,
              a.aggregate_json, a.log_metrics_json, a.run_meta_json
       FROM runs r JOIN attempts a ON a.run_id = r.run_id AND a.attempt = r.result_attempt
       WHERE r.status = 'completed' AND r.workload_id = ?
         AND r.completed_at = (SELECT MAX(completed_at) FROM runs x
                               WHERE x.status = 'completed' AND x.workload_id = r.workload_id AND x.system_label = r.system_label)
       ORDER BY r.system_label, r.run_id`,
    )
    .all(workloadId) as CompletedRow[];
  // Two runs completing in the same millisecond: keep one per label (the greatest run id).
  const byLabel = new Map<string, CompletedRow>();
  for (const r of rows) byLabel.set(r.system_label, r);
  return [...byLabel.values()].map(toCompleted);
}
