import { z } from 'zod';
import { RunId, SystemLabel } from './job.js';

export const RUN_STATUS_NAMES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
/** A run in one of these states can no longer change (a cancel is refused with 409). */
export const FINISHED_RUN_STATUSES: readonly RunStatus['status'][] = ['completed', 'failed', 'cancelled'];

/**
 * A run's lifecycle status, kept in the RUNS_BUCKET key-value bucket (key = run id).
 * workload-api writes `queued` (and `cancelled` for a run it took off the queue, or the
 * cancel request of a running one); the host agent writes the rest. Writers update it
 * with compare-and-set on the entry's revision, so a cancel and an agent taking the job
 * at the same moment cannot both win.
 */
export const RunStatus = z.object({
  run_id: RunId,
  system_label: SystemLabel,
  workload_id: z.string(),
  status: z.enum(RUN_STATUS_NAMES),
  attempt: z.number().int().nonnegative(),
  expected_samples: z.number().int().nonnegative().nullable().default(null),
  error: z.string().nullable().default(null),
  submitted_at: z.string(),
  updated_at: z.string(),
  /** Stream sequence of the run's job message in KVBENCH_JOBS (lets a cancel take it off the queue). */
  job_seq: z.number().int().positive().nullable().default(null),
  /** Set by POST /runs/:id/cancel; the agent running the run watches for it and aborts. */
  cancel_requested_at: z.string().nullable().default(null),
  /** The agent that took the current attempt (AgentInfo.agent_id); null while none has. */
  agent_id: z.string().nullable().default(null),
  /** How often workload-api published the job again because it was no longer deliverable (reconcile). */
  requeues: z.number().int().nonnegative().default(0),
  /** The latest thing the reconciler did or saw (job lost and published again, agent vanished); null when nothing. */
  note: z.string().nullable().default(null),
});
export type RunStatus = z.infer<typeof RunStatus>;
