import type { Database } from 'better-sqlite3';
import type { AttemptInfo, RunDetail, RunSummary } from '../api-schemas.js';
import { attemptStatus, type AttemptStateRow, type RunStatusName } from './run-status.js';

export interface RunFilter {
  workload_id?: string | undefined;
  system_label?: string | undefined;
  status?: RunStatusName | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

interface RunRow {
  run_id: string;
  system_label: string;
  workload_id: string | null;
  model: string | null;
  status: RunStatusName;
  result_attempt: number | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  job_json: string | null;
  attempt_count: number;
  current_attempt: number | null;
  expected_samples: number | null;
  received_samples: number | null;
}

// The current attempt: the result attempt once the run is completed, otherwise the latest one.
const RUN_SELECT = `
  SELECT r.run_id, r.system_label, r.workload_id, r.model, r.status, r.result_attempt, r.created_at,
         r.updated_at, r.completed_at, r.job_json,
         (SELECT COUNT(*) FROM attempts a WHERE a.run_id = r.run_id) AS attempt_count,
         c.attempt AS current_attempt, c.expected_samples, c.received_samples
  FROM runs r
  LEFT JOIN attempts c ON c.run_id = r.run_id AND c.attempt = CASE
    WHEN r.status = 'completed' THEN r.result_attempt
    ELSE (SELECT MAX(attempt) FROM attempts m WHERE m.run_id = r.run_id) END`;

function toSummary(r: RunRow): RunSummary {
  return {
    run_id: r.run_id,
    system_label: r.system_label,
    workload_id: r.workload_id,
    model: r.model,
    status: r.status,
    attempt_count: r.attempt_count,
    current_attempt: r.current_attempt,
    result_attempt: r.status === 'completed' ? r.result_attempt : null,
    expected_samples: r.expected_samples,
    received_samples: r.received_samples ?? 0,
    created_at: r.created_at,
    updated_at: r.updated_at,
    completed_at: r.completed_at,
  };
}

/** Runs, newest first, filtered by workload, system label and status. */
export function listRuns(db: Database, filter: RunFilter = {}): RunSummary[] {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (filter.workload_id !== undefined) (where.push('r.workload_id = ?'), args.push(filter.workload_id));
  if (filter.system_label !== undefined) (where.push('r.system_label = ?'), args.push(filter.system_label));
  if (filter.status !== undefined) (where.push('r.status = ?'), args.push(filter.status));
  const sql = `${RUN_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY r.created_at DESC, r.run_id LIMIT ? OFFSET ?`;
  const rows = db.prepare(sql).all(...args, filter.limit ?? 100, filter.offset ?? 0) as RunRow[];
  return rows.map(toSummary);
}

interface AttemptRow extends AttemptStateRow {
  expected_samples: number | null;
  sample_count: number | null;
  received_samples: number;
  accepted_at: string | null;
  error: string | null;
  log_tail_json: string | null;
  run_meta_json: string | null;
  log_metrics_json: string | null;
}

/** One run with every attempt (abandoned ones marked), or null when unknown. */
export function getRun(db: Database, runId: string): RunDetail | null {
  const r = db.prepare(`${RUN_SELECT} WHERE r.run_id = ?`).get(runId) as RunRow | undefined;
  if (!r) return null;
  const rows = db.prepare('SELECT * FROM attempts WHERE run_id = ? ORDER BY attempt').all(runId) as AttemptRow[];
  const latest = rows.at(-1)?.attempt ?? 0;
  const resultAttempt = r.status === 'completed' ? r.result_attempt : null;
  const attempts: AttemptInfo[] = rows.map((a) => ({
    attempt: a.attempt,
    status: attemptStatus(a, latest),
    in_results: a.attempt === resultAttempt,
    expected_samples: a.expected_samples,
    sample_count: a.sample_count,
    received_samples: a.received_samples,
    accepted_at: a.accepted_at,
    started_at: a.started_at,
    completed_at: a.completed_at,
    failed_at: a.failed_at,
    cancelled_at: a.cancelled_at,
    error: a.error,
    log_tail: a.log_tail_json === null ? null : (JSON.parse(a.log_tail_json) as string[]),
  }));
  const current = rows.find((a) => a.attempt === r.current_attempt);
  return {
    ...toSummary(r),
    attempts,
    job: r.job_json === null ? null : JSON.parse(r.job_json),
    run_meta: current?.run_meta_json ? JSON.parse(current.run_meta_json) : null,
    log_metrics: current?.log_metrics_json ? JSON.parse(current.log_metrics_json) : null,
    aggregate: current?.aggregate_json ? JSON.parse(current.aggregate_json) : null,
  };
}

/** The latest attempt number of a run, or null when the run is unknown. */
export function latestAttempt(db: Database, runId: string): number | null {
  const row = db.prepare('SELECT MAX(attempt) AS a FROM attempts WHERE run_id = ?').get(runId) as { a: number | null };
  return row.a;
}
