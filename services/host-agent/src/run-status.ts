import type { KV } from '@nats-io/kv';
import { RunStatus, type Job, type Logger } from '@kvbench/common';
import { cancelRequested, changeRunStatus } from '@kvbench/bus';

type StatusPatch = Partial<Pick<RunStatus, 'status' | 'attempt' | 'expected_samples' | 'error'>>;

/**
 * Writes a run's lifecycle status into the runs bucket (what `GET /runs/:id` of workload-api
 * reads), compare-and-set so that a concurrent cancel is never overwritten: once cancelled, a
 * run stays cancelled. Returns the status now stored (the cancelled one when the cancel won),
 * or null when the bucket could not be written.
 */
export async function updateRunStatus(kv: KV, job: Job, patch: StatusPatch, log: Logger): Promise<RunStatus | null> {
  try {
    return await changeRunStatus(kv, job.run_id, (prev) => {
      if (prev?.status === 'cancelled') return null;
      const base = prev ?? RunStatus.parse({
        run_id: job.run_id, system_label: job.system_label, workload_id: job.workload_id,
        status: 'queued', attempt: 0, submitted_at: job.submitted_at, updated_at: job.submitted_at,
      });
      return { ...base, ...patch };
    });
  } catch (err) {
    // Status is a convenience view; the events stream is the record. Never fail a run over it.
    log.warn({ err: String(err), run_id: job.run_id }, 'could not update run status');
    return null;
  }
}

export type AttemptStart =
  | { kind: 'start'; attempt: number; status: RunStatus | null }
  | { kind: 'cancelled'; attempt: number; status: RunStatus }
  | { kind: 'drop'; reason: string };

/**
 * Take a delivered job as the run's next attempt, or say why not. Before anything runs the
 * agent checks the run's status (issue 25: a status check rather than deleting from the work
 * queue): a finished run is dropped; a job older than the run's current job message (the
 * reconciler published it again, job_seq) is dropped; a cancelled run is finished as cancelled.
 * The attempt number is one past the last one started, so a job published again never reuses
 * an attempt whose samples the aggregator already holds. Compare-and-set, so a concurrent
 * cancel or reconcile is never overwritten.
 */
export async function startAttempt(
  kv: KV,
  job: Job,
  delivery: { seq: number; deliveryCount: number; agentId: string },
  log: Logger,
): Promise<AttemptStart> {
  let verdict: AttemptStart | undefined;
  try {
    const now = await changeRunStatus(kv, job.run_id, (prev) => {
      if (prev && (prev.status === 'completed' || prev.status === 'failed')) {
        verdict = { kind: 'drop', reason: `run is already ${prev.status}` };
        return null;
      }
      if (prev && prev.job_seq !== null && delivery.seq < prev.job_seq) {
        verdict = { kind: 'drop', reason: `job seq ${delivery.seq} was superseded by seq ${prev.job_seq} (published again)` };
        return null;
      }
      const attempt = Math.max(delivery.deliveryCount, (prev?.attempt ?? 0) + 1);
      if (prev && cancelRequested(prev)) {
        verdict = { kind: 'cancelled', attempt, status: prev };
        return null;
      }
      const base = prev ?? RunStatus.parse({
        run_id: job.run_id, system_label: job.system_label, workload_id: job.workload_id,
        status: 'queued', attempt: 0, submitted_at: job.submitted_at, updated_at: job.submitted_at,
      });
      verdict = { kind: 'start', attempt, status: null };
      return { ...base, status: 'running', attempt, error: null, agent_id: delivery.agentId };
    });
    if (verdict?.kind === 'start') return { ...verdict, status: now };
    return verdict!;
  } catch (err) {
    log.warn({ err: String(err), run_id: job.run_id }, 'could not update run status');
    return { kind: 'start', attempt: delivery.deliveryCount, status: null };
  }
}
