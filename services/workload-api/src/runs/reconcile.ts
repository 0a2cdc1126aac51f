import { Job, RunAcceptedEvent, RunFailedEvent, type Logger, type RunStatus } from '@kvbench/common';
import { EVENTS_STREAM, JOBS_STREAM, agentConsumerName, changeRunStatus, eventSubject } from '@kvbench/bus';
import type { ConsumerInfo } from '@nats-io/jetstream';
import type { RunsContext } from './context.js';
import { liveAgents } from './presence.js';
import { publishEvent, publishJob } from './publish.js';
import { listRuns } from './status.js';

/** A run's job is published again at most this often before the run fails with the reason. */
export const MAX_REQUEUES = 3;
/** A queued run without job_seq this old lost its submitter between status and publish. */
const UNPUBLISHED_GRACE_MS = 10_000;
/** A running run is looked at only once its status is this old (the agent just took it otherwise). */
const RUNNING_GRACE_MS = 5_000;

export interface ReconcileAction {
  run_id: string;
  action: 'republished' | 'failed' | 'agent_lost';
  reason: string;
}

/**
 * Why a queued run's job can no longer reach an agent, or null while it still can.
 *
 * On a work-queue stream a message is deliverable while it is stored and the label's consumer has
 * either not delivered it yet (seq above `delivered.stream_seq`) or still holds it as pending (in
 * flight, nak'd with a delay, waiting out the ack wait). A stored message the consumer has passed
 * while holding nothing pending is never delivered again: that is a message that used up
 * max_deliver (nats-server keeps it in a WorkQueue stream, nats-io/nats-server#5564), or one the
 * consumer skipped (deleting a work-queue message is what the fault run saw do it; pending state
 * after a delete was only fixed in nats-io/nats-server#7984, long after 2.9). With max_ack_pending
 * 1 (ensureJobConsumer) "pending" means "the one message in flight".
 */
export function undeliverableReason(
  status: Pick<RunStatus, 'job_seq'>,
  stored: boolean,
  consumer: { delivered: { stream_seq: number }; ack_floor: { stream_seq: number }; num_ack_pending: number } | null,
): string | null {
  const seq = status.job_seq;
  if (seq === null) return null;
  if (!stored) return `its job (KVBENCH_JOBS seq ${seq}) is no longer in the queue (deleted or expired)`;
  if (!consumer) return null; // no consumer yet: whoever creates it delivers from the start
  if (seq > consumer.delivered.stream_seq) return null;
  if (consumer.num_ack_pending > 0 && seq > consumer.ack_floor.stream_seq) return null;
  return `its job (KVBENCH_JOBS seq ${seq}) is stored but the consumer delivered past it (up to seq ${consumer.delivered.stream_seq}, nothing pending)`;
}

/**
 * One pass over every unfinished run: a queued run whose job cannot be delivered any more is
 * published again (new msgID, counted in `requeues`) or, after MAX_REQUEUES, failed with the
 * reason; a running run whose agent has no live presence entry goes back to `queued` with a note,
 * since its job returns to the queue once the ack wait runs out. Every write is compare-and-set,
 * so an agent that moves the run meanwhile wins.
 */
export async function reconcileRuns(ctx: RunsContext, log: Logger): Promise<ReconcileAction[]> {
  const actions: ReconcileAction[] = [];
  const now = ctx.now();
  const runs = await listRuns(ctx.runs, { limit: Number.MAX_SAFE_INTEGER });
  const open = runs.filter((r) => r.status === 'queued' || r.status === 'running');
  if (open.length === 0) return actions;
  const consumers = new Map<string, ConsumerInfo | null>();
  const consumerOf = async (label: string) => {
    if (!consumers.has(label)) {
      consumers.set(label, await ctx.jsm.consumers.info(JOBS_STREAM, agentConsumerName(label)).catch(() => null));
    }
    return consumers.get(label)!;
  };
  let live: Set<string> | undefined;

  for (const run of open) {
    const age = now.getTime() - Date.parse(run.updated_at);
    if (run.status === 'queued' && run.cancel_requested_at === null) {
      let reason: string | null;
      if (run.job_seq === null) {
        reason = age > UNPUBLISHED_GRACE_MS ? 'its job was never published (submit interrupted)' : null;
      } else {
        // Stored first, consumer second: a job taken in between is seen as pending, never as lost.
        const stored = (await ctx.jsm.streams.getMessage(JOBS_STREAM, { seq: run.job_seq }).catch(() => null)) !== null;
        reason = undeliverableReason(run, stored, await consumerOf(run.system_label));
      }
      if (reason) actions.push(await requeueOrFail(ctx, run, reason, log));
    } else if (run.status === 'running' && run.agent_id !== null && age > RUNNING_GRACE_MS) {
      live ??= new Set((await liveAgents(ctx.jsm, ctx.agents, now)).map((a) => a.agent_id));
      if (!live.has(run.agent_id)) actions.push(await markAgentLost(ctx, run, log));
    }
  }
  return actions;
}

async function requeueOrFail(ctx: RunsContext, run: RunStatus, reason: string, log: Logger): Promise<ReconcileAction> {
  const at = ctx.now().toISOString();
  const same = (s: RunStatus | null): s is RunStatus => !!s && s.status === 'queued' && s.job_seq === run.job_seq && s.requeues === run.requeues;
  const job = run.requeues < MAX_REQUEUES ? await acceptedJob(ctx, run.run_id) : null;
  if (!job) {
    const error = job === null && run.requeues < MAX_REQUEUES
      ? `not deliverable: ${reason}, and its accepted event (the job) is gone too`
      : `not deliverable: ${reason}; published again ${run.requeues} times already`;
    const after = await changeRunStatus(ctx.runs, run.run_id, (s) => (same(s) ? { ...s, status: 'failed', error, note: error } : null));
    if (after?.status === 'failed' && after.error === error) {
      const failed = RunFailedEvent.parse({
        schema: 'kvbench.event', version: 1, run_id: run.run_id, attempt: Math.max(1, run.attempt), system_label: run.system_label, at, type: 'failed', error, final: true,
      });
      await publishEvent(ctx, failed, `${run.run_id}.failed.undeliverable`);
      log.error({ run_id: run.run_id, reason }, 'queued run failed: its job cannot be delivered');
    }
    return { run_id: run.run_id, action: 'failed', reason: error };
  }
  const n = run.requeues + 1;
  const note = `${reason}: published again (${n} of ${MAX_REQUEUES}) at ${at}`;
  // Claim the requeue first: a second reconciler (or pass) then sees requeues moved and stops.
  const claimed = await changeRunStatus(ctx.runs, run.run_id, (s) => (same(s) ? { ...s, requeues: n, note } : null));
  if (claimed?.requeues !== n || claimed.note !== note) return { run_id: run.run_id, action: 'republished', reason: 'another writer moved the run first' };
  // The same msgID for the same requeue number: a retry of this publish is de-duplicated.
  const seq = await publishJob(ctx, job, `${run.run_id}.requeue-${n}`);
  // An agent that got the new message first already moved on; job_seq only ever grows.
  await changeRunStatus(ctx.runs, run.run_id, (s) => (s && (s.job_seq ?? 0) < seq ? { ...s, job_seq: seq } : null));
  log.warn({ run_id: run.run_id, reason, job_seq: seq, requeue: n }, 'queued run published again');
  return { run_id: run.run_id, action: 'republished', reason: note };
}

async function markAgentLost(ctx: RunsContext, run: RunStatus, log: Logger): Promise<ReconcileAction> {
  const note = `agent ${run.agent_id} vanished (no heartbeat) during attempt ${run.attempt}: the job goes back to the '${run.system_label}' queue once its ack wait runs out, and the next agent restarts the run as a new attempt`;
  await changeRunStatus(ctx.runs, run.run_id, (s) =>
    s && s.status === 'running' && s.agent_id === run.agent_id && s.attempt === run.attempt ? { ...s, status: 'queued', note } : null,
  );
  log.warn({ run_id: run.run_id, agent_id: run.agent_id, attempt: run.attempt }, 'running run lost its agent: back to queued');
  return { run_id: run.run_id, action: 'agent_lost', reason: note };
}

/** The run's Job as accepted (the accepted event carries it); null when that event is gone. */
async function acceptedJob(ctx: RunsContext, runId: string): Promise<Job | null> {
  const stored = await ctx.jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: eventSubject(runId, 'accepted') }).catch(() => null);
  if (!stored) return null;
  const parsed = RunAcceptedEvent.safeParse(stored.json());
  return parsed.success ? Job.parse(parsed.data.job) : null;
}
