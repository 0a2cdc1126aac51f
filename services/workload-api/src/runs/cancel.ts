import { ConflictError, FINISHED_RUN_STATUSES, NotFoundError, RunCancelledEvent, RunStatus, runEvent } from '@kvbench/common';
import { changeRunStatus } from '@kvbench/bus';
import { busCall } from '../bus-call.js';
import type { RunsContext } from './context.js';
import { publishEvent } from './publish.js';

export interface CancelOutcome {
  run_id: string;
  /** `cancelled`: it never started and never will; `cancelling`: its agent was told to stop it. */
  status: 'cancelled' | 'cancelling';
}

/**
 * Cancel a run. Queued: the run is cancelled at once; its job stays queued and the agent that
 * takes it sees the status and drops it, so the queue's order is never disturbed. Running: the
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
    // The job stays in its queue: the agent that takes it reads this status and drops it (term, which
    // in a work queue acks it). Deleting it here instead is what made a consumer deliver past another
    // job on nats-server 2.9 (issue 25; pending state after a delete: nats-io/nats-server#7984).
    const event = RunCancelledEvent.parse(runEvent('cancelled', { run_id: runId, attempt: Math.max(1, after.attempt), system_label: after.system_label }, {
      was_running: false, reason: 'cancelled by request while queued',
    }, new Date(at)));
    // eventMessageId: the same id as the agent's cancelled event of this attempt, so never twice.
    await busCall('events stream', () => publishEvent(ctx, event));
  }
  return { run_id: runId, status: 'cancelled' };
}
