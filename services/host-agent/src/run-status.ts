import type { KV } from '@nats-io/kv';
import { RunStatus, type Job, type Logger } from '@kvbench/common';

/** Writes a run's lifecycle status into the runs bucket (what `GET /runs/:id` of workload-api reads). */
export async function updateRunStatus(
  kv: KV,
  job: Job,
  patch: Partial<Pick<RunStatus, 'status' | 'attempt' | 'expected_samples' | 'error'>>,
  log: Logger,
): Promise<void> {
  try {
    const prev = await kv.get(job.run_id);
    const parsed = prev?.value?.length ? RunStatus.safeParse(prev.json()) : undefined;
    const base: RunStatus = parsed?.success
      ? parsed.data
      : {
          run_id: job.run_id,
          system_label: job.system_label,
          workload_id: job.workload_id,
          status: 'queued',
          attempt: 0,
          expected_samples: null,
          error: null,
          submitted_at: job.submitted_at,
          updated_at: new Date().toISOString(),
        };
    const next = RunStatus.parse({ ...base, ...patch, updated_at: new Date().toISOString() });
    await kv.put(job.run_id, JSON.stringify(next));
  } catch (err) {
    // Status is a convenience view; the events stream is the record. Never fail a run over it.
    log.warn({ err: String(err), run_id: job.run_id }, 'could not update run status');
  }
}
