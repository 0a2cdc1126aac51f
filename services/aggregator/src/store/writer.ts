import { computeAggregate, type RunEvent, type Sample } from '@kvbench/common';
import type { Database } from 'better-sqlite3';
import type { StoreNotice } from './notices.js';
import { refreshRunStatus } from './run-status.js';
import { telemetryWriter } from './telemetry.js';

export interface EventWriter {
  /**
   * Store a batch of validated events in one transaction. Idempotent: an event
   * already stored (redelivery, duplicate publish) changes nothing and yields no
   * notice. Throws (nothing stored) when SQLite cannot write.
   */
  write(events: readonly RunEvent[]): StoreNotice[];
}

type AttemptKey = string;
const attemptKey = (runId: string, attempt: number): AttemptKey => `${attempt}:${runId}`;

/** Key of a non-sample event within its (run, attempt, type): engine snapshots are many, the rest one. */
function eventKey(e: Exclude<RunEvent, { type: 'sample' }>): string {
  if (e.type !== 'engine_stats') return '';
  return e.final ? 'final' : `snapshot:${e.at}`;
}

export function createEventWriter(db: Database): EventWriter {
  const insertRun = db.prepare(
    `INSERT INTO runs (run_id, system_label, created_at, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (run_id) DO NOTHING`,
  );
  const insertAttempt = db.prepare(
    `INSERT INTO attempts (run_id, attempt) VALUES (?, ?) ON CONFLICT (run_id, attempt) DO NOTHING`,
  );
  const insertSample = db.prepare(
    `INSERT INTO samples (run_id, attempt, request_id, batch_index, index_in_batch, ok, scheduled_at_s, ttft_s, latency_s,
       context_tokens, phase, body)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, attempt, request_id) DO NOTHING`,
  );
  const insertEvent = db.prepare(
    `INSERT INTO events (run_id, attempt, type, key, at, body) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (run_id, attempt, type, key) DO NOTHING`,
  );
  const addReceived = db.prepare('UPDATE attempts SET received_samples = received_samples + ? WHERE run_id = ? AND attempt = ?');
  const setRunJob = db.prepare(
    `UPDATE runs SET job_json = ?, workload_id = COALESCE(workload_id, ?), model = COALESCE(model, ?) WHERE run_id = ?`,
  );
  const setRunMetaIds = db.prepare(
    `UPDATE runs SET workload_id = COALESCE(workload_id, ?), model = COALESCE(model, ?) WHERE run_id = ?`,
  );
  const setAccepted = db.prepare('UPDATE attempts SET accepted_at = ? WHERE run_id = ? AND attempt = ?');
  const setStarted = db.prepare(
    `UPDATE attempts SET started_at = ?, expected_samples = ?, run_meta_json = COALESCE(run_meta_json, ?)
     WHERE run_id = ? AND attempt = ?`,
  );
  // log_metrics_final ranks where the figures came from: 0 a snapshot, 1 the final engine_stats,
  // 2 the completed event. Higher rank wins whatever the arrival order, so redelivery in another
  // order stores the same figures.
  const setLogMetrics = db.prepare(
    `UPDATE attempts SET log_metrics_json = ?, log_metrics_final = ?
     WHERE run_id = ? AND attempt = ? AND log_metrics_final <= ?`,
  );
  const setCompleted = db.prepare(
    `UPDATE attempts SET completed_at = ?, sample_count = ?, window_s = ?, run_meta_json = ?,
       log_metrics_json = ?, log_metrics_final = 2
     WHERE run_id = ? AND attempt = ?`,
  );
  const setFailed = db.prepare(
    `UPDATE attempts SET failed_at = ?, error = ?, log_tail_json = ?, failed_final = ? WHERE run_id = ? AND attempt = ?`,
  );
  const setCancelled = db.prepare('UPDATE attempts SET cancelled_at = ? WHERE run_id = ? AND attempt = ?');
  const completionState = db.prepare(
    `SELECT completed_at, sample_count, received_samples, aggregate_json FROM attempts WHERE run_id = ? AND attempt = ?`,
  );
  const aggregateInputs = db.prepare(
    // Workload order: the mean sums in this order, so the aggregate does not depend on arrival order.
    `SELECT ok, scheduled_at_s, ttft_s, latency_s FROM samples WHERE run_id = ? AND attempt = ?
     ORDER BY batch_index, index_in_batch, id`,
  );
  const setAggregate = db.prepare(
    'UPDATE attempts SET aggregate_json = ?, complete_at = ? WHERE run_id = ? AND attempt = ?',
  );
  const touchRun = db.prepare('UPDATE runs SET updated_at = ? WHERE run_id = ?');
  const storeTelemetry = telemetryWriter(db);

  function storeLifecycle(e: Exclude<RunEvent, { type: 'sample' }>): boolean {
    const r = insertEvent.run(e.run_id, e.attempt, e.type, eventKey(e), e.at, JSON.stringify(e));
    if (r.changes === 0) return false;
    switch (e.type) {
      case 'accepted':
        setAccepted.run(e.at, e.run_id, e.attempt);
        setRunJob.run(JSON.stringify(e.job), e.job.workload_id, e.job.model, e.run_id);
        break;
      case 'started':
        setStarted.run(e.at, e.expected_samples, JSON.stringify(e.run_meta), e.run_id, e.attempt);
        setRunMetaIds.run(e.run_meta.workload_id, e.run_meta.model, e.run_id);
        break;
      case 'engine_stats':
        setLogMetrics.run(JSON.stringify(e.log_metrics), e.final ? 1 : 0, e.run_id, e.attempt, e.final ? 1 : 0);
        break;
      case 'completed':
        setCompleted.run(
          e.at, e.sample_count, e.window_s, JSON.stringify(e.run_meta), JSON.stringify(e.log_metrics), e.run_id, e.attempt,
        );
        setRunMetaIds.run(e.run_meta.workload_id, e.run_meta.model, e.run_id);
        break;
      case 'failed':
        setFailed.run(e.at, e.error, JSON.stringify(e.log_tail), e.final ? 1 : 0, e.run_id, e.attempt);
        break;
      case 'cancelled':
        setCancelled.run(e.at, e.run_id, e.attempt);
        break;
    }
    return true;
  }

  /** Complete the attempt when its completed event and every announced sample are stored. */
  function completeIfReady(runId: string, attempt: number, now: string): StoreNotice | null {
    const s = completionState.get(runId, attempt) as
      | { completed_at: string | null; sample_count: number | null; received_samples: number; aggregate_json: string | null }
      | undefined;
    if (!s || s.completed_at === null || s.aggregate_json !== null || s.received_samples !== s.sample_count) return null;
    // computeAggregate reads only these four fields of each sample; selecting the
    // columns instead of parsing every body keeps completion cheap for huge runs.
    const rows = aggregateInputs.all(runId, attempt) as { ok: number; scheduled_at_s: number; ttft_s: number | null; latency_s: number | null }[];
    const inputs = rows.map((r) => ({ ok: r.ok === 1, scheduled_at_s: r.scheduled_at_s, ttft_s: r.ttft_s, latency_s: r.latency_s }));
    const aggregate = computeAggregate(inputs as unknown as Sample[]);
    setAggregate.run(JSON.stringify(aggregate), now, runId, attempt);
    return { kind: 'complete', run_id: runId, attempt, aggregate, sample_count: s.sample_count! };
  }

  const writeTx = db.transaction((events: readonly RunEvent[]): StoreNotice[] => {
    const now = new Date().toISOString();
    const notices: StoreNotice[] = [];
    const touched = new Map<AttemptKey, { runId: string; attempt: number; newSamples: number }>();
    const touchedRuns = new Set<string>();
    for (const e of events) {
      const key = attemptKey(e.run_id, e.attempt);
      let t = touched.get(key);
      if (!t) {
        // Rows for the run and attempt exist before anything refers to them, whatever the arrival order.
        insertRun.run(e.run_id, e.system_label, now, now);
        insertAttempt.run(e.run_id, e.attempt);
        t = { runId: e.run_id, attempt: e.attempt, newSamples: 0 };
        touched.set(key, t);
        touchedRuns.add(e.run_id);
      }
      if (e.type === 'sample') {
        const s = e.sample;
        const r = insertSample.run(
          e.run_id, e.attempt, s.request_id, s.batch_index, s.index_in_batch, s.ok ? 1 : 0,
          s.scheduled_at_s, s.ttft_s, s.latency_s, s.context_tokens, s.phase, JSON.stringify(s),
        );
        if (r.changes === 1) {
          t.newSamples++;
          notices.push({ kind: 'sample', run_id: e.run_id, attempt: e.attempt, id: Number(r.lastInsertRowid), sample: s });
        }
      } else if (e.type === 'telemetry') {
        // Series rows and the summary; no live notice (the live stream carries samples and lifecycle).
        storeTelemetry(e);
      } else if (storeLifecycle(e)) {
        notices.push({ kind: 'lifecycle', run_id: e.run_id, attempt: e.attempt, event: e });
      }
    }
    for (const t of touched.values()) {
      if (t.newSamples > 0) addReceived.run(t.newSamples, t.runId, t.attempt);
      const done = completeIfReady(t.runId, t.attempt, now);
      if (done) notices.push(done);
    }
    for (const runId of touchedRuns) {
      touchRun.run(now, runId);
      refreshRunStatus(db, runId);
    }
    return notices;
  });

  return { write: (events) => (events.length === 0 ? [] : writeTx(events)) };
}
