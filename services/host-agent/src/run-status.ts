import type { KV } from '@nats-io/kv';
import { RunStatus, type Job, type Logger } from '@kvbench/common';
import { changeRunStatus } from '@kvbench/bus';

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
