import { RUN_STATUS_NAMES } from '@kvbench/common';
import type { Database, Statement } from 'better-sqlite3';

export const RUN_STATUSES = RUN_STATUS_NAMES;
export type RunStatusName = (typeof RUN_STATUSES)[number];

/**
 * An attempt's state. `abandoned`: a later attempt exists and this one neither
 * completed nor reported failure (its agent was killed); its samples are kept
 * but never used in results.
 */
export const ATTEMPT_STATUSES = ['queued', 'running', 'completed', 'failed', 'abandoned', 'cancelled'] as const;
export type AttemptStatusName = (typeof ATTEMPT_STATUSES)[number];

export interface AttemptStateRow {
  attempt: number;
  started_at: string | null;
  completed_at: string | null;
  failed_at: string | null;
  failed_final: number | null;
  cancelled_at: string | null;
  aggregate_json: string | null;
  complete_at: string | null;
}

export function attemptStatus(a: AttemptStateRow, latestAttempt: number): AttemptStatusName {
  if (a.aggregate_json !== null) return 'completed';
  if (a.cancelled_at !== null) return 'cancelled';
  if (a.failed_at !== null) return 'failed';
  if (a.attempt < latestAttempt) return 'abandoned';
  if (a.started_at !== null || a.completed_at !== null) return 'running';
  return 'queued';
}

export interface RunState {
  status: RunStatusName;
  /** The latest attempt with a completed event: the only one results may use. */
  resultAttempt: number | null;
  /** The completed event's time (agent clock) of the result attempt, once complete. */
  completedAt: string | null;
}

/** Run status from its attempts (ascending). */
export function runState(attempts: readonly AttemptStateRow[]): RunState {
  if (attempts.length === 0) return { status: 'queued', resultAttempt: null, completedAt: null };
  // A cancel is final for the run: whatever an attempt stored before it never becomes a result.
  if (attempts.some((a) => a.cancelled_at !== null)) return { status: 'cancelled', resultAttempt: null, completedAt: null };
  const withCompleted = attempts.filter((a) => a.completed_at !== null);
  const result = withCompleted.at(-1) ?? null;
  if (result && result.aggregate_json !== null) {
    // The agent's completion time, not when the last sample reached us: the order of runs in
    // /results then does not depend on delivery order (restarts, redelivery).
    return { status: 'completed', resultAttempt: result.attempt, completedAt: result.completed_at };
  }
  const latest = attempts.at(-1)!;
  const s = attemptStatus(latest, latest.attempt);
  // A failure that will be retried (final = false) leaves the run running.
  const status: RunStatusName = s === 'failed' ? (latest.failed_final === 0 ? 'running' : 'failed') : s === 'queued' ? 'queued' : 'running';
  return { status, resultAttempt: result?.attempt ?? null, completedAt: null };
}

const statements = new WeakMap<Database, { attempts: Statement; update: Statement }>();

/** Recompute and store runs.status / result_attempt / completed_at (inside the writer's transaction). */
export function refreshRunStatus(db: Database, runId: string): RunState {
  let st = statements.get(db);
  if (!st) {
    st = {
      attempts: db.prepare(
        `SELECT attempt, started_at, completed_at, failed_at, failed_final, cancelled_at, aggregate_json IS NOT NULL AS has_aggregate, complete_at
         FROM attempts WHERE run_id = ? ORDER BY attempt`,
      ),
      update: db.prepare('UPDATE runs SET status = ?, result_attempt = ?, completed_at = ? WHERE run_id = ?'),
    };
    statements.set(db, st);
  }
  const rows = (st.attempts.all(runId) as (Omit<AttemptStateRow, 'aggregate_json'> & { has_aggregate: number })[]).map((r) => ({
    ...r,
    // Only whether the aggregate exists matters here; avoid reading its JSON.
    aggregate_json: r.has_aggregate ? '' : null,
  }));
  const state = runState(rows);
  st.update.run(state.status, state.resultAttempt, state.completedAt, runId);
  return state;
}
