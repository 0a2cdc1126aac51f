import { ConflictError, FINISHED_RUN_STATUSES, NotFoundError, RunCancelledEvent, RunStatus } from '@kvbench/common';
import { JOBS_STREAM, changeRunStatus, eventSubject } from '@kvbench/bus';
import { busCall } from '../bus-call.js';
import type { RunsContext } from './context.js';
import { publishOnce } from './publish.js';

export interface CancelOutcome {
  run_id: string;
  /** `cancelled`: it never started and never will; `cancelling`: its agent was told to stop it. */
  status: 'cancelled' | 'cancelling';
}

/**
 * Cancel a run. Queued: its job is deleted from the work queue and the run is cancelled at once
 * (an agent that grabbed the job in the same instant sees the status and drops it). Running: the
 * cancel request is written into its status entry, which its agent watches; the agent stops the
 * engine and publishes `cancelled`. Finished runs are a ConflictError naming their state.
 */
export async function cancelRun(ctx: RunsContext, runId: string): Promise<CancelOutcome> {
  const at = ctx.now().toISOString();
  let before: RunStatus | null = null;
  const after = await busCall('runs bucket', () =>
    changeRunStatus(ctx.runs, runId, (s) => {
      before = s;
      if (!s) return null;
      if (FINISHED_RUN_STATUSES.includes(s.status)) return null;
      if (s.cancel_requested_at !== null) return null; // asked already: the same answer again
      return s.status === 'queued' ? { ...s, status: 'cancelled', cancel_requested_at: at } : { ...s, cancel_requested_at: at };
    }),
  );
  const prior = before as RunStatus | null;
  if (!prior || !after) throw new NotFoundError('run', runId);
  if (FINISHED_RUN_STATUSES.includes(prior.status)) {
    throw new ConflictError(`run ${runId} is ${prior.status}: only a queued or running run can be cancelled`, prior.status);
  }
  if (after.status !== 'cancelled') return { run_id: runId, status: 'cancelling' };
  if (prior.status === 'queued') {
    if (after.job_seq !== null) {
      // Gone from the queue: no agent can take it from now on.
      await ctx.jsm.streams.deleteMessage(JOBS_STREAM, after.job_seq, false).catch(() => false);
    }
    const event = RunCancelledEvent.parse({
      schema: 'kvbench.event', version: 1, run_id: runId, attempt: Math.max(1, after.attempt), system_label: after.system_label,
      at, type: 'cancelled', was_running: false, reason: 'cancelled by request while queued',
    });
    await busCall('events stream', () => publishOnce(ctx.js, eventSubject(runId, 'cancelled'), JSON.stringify(event), `${runId}.${event.attempt}.cancelled`));
  }
  return { run_id: runId, status: 'cancelled' };
}
