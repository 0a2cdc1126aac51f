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
  workload_id: z.string().describe('the workload it replays'),
  status: z.enum(RUN_STATUS_NAMES).describe('queued: waiting for an agent; running; completed; failed (see error); cancelled'),
  attempt: z.number().int().nonnegative().describe('attempts started so far (0 while queued)'),
  expected_samples: z.number().int().nonnegative().nullable().default(null).describe('requests the run will measure; null until an agent starts it'),
  error: z.string().nullable().default(null).describe('why it failed; null otherwise'),
  submitted_at: z.string().describe('when it was accepted (ISO 8601)'),
  updated_at: z.string().describe('last status change (ISO 8601)'),
  job_seq: z
    .number()
    .int()
    .positive()
    .nullable()
    .default(null)
    .describe("stream sequence of the run's job message in KVBENCH_JOBS (lets a cancel take it off the queue)"),
  cancel_requested_at: z.string().nullable().default(null).describe('set by POST /runs/{id}/cancel; the agent running the run aborts'),
  agent_id: z.string().nullable().default(null).describe('the agent that took the current attempt (AgentInfo.agent_id); null while none has'),
  requeues: z.number().int().nonnegative().default(0).describe('how often the job was published again because it was no longer deliverable'),
  note: z.string().nullable().default(null).describe('the latest thing the reconciler did or saw (job lost and published again, agent vanished); null when nothing'),
});
export type RunStatus = z.infer<typeof RunStatus>;
