import { RunFailedEvent, RunStatus, runEvent, silentLogger, type Job, type RunEvent } from '@kvbench/common';
import { EventPublisher, deriveRunKey, jobSubject } from '@kvbench/bus';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { RunsContext } from './context.js';

/**
 * Publish with a message id, retrying once: when only the ack was lost the message is stored, and
 * JetStream's de-duplication (msgID within the duplicate window) keeps the retry from queueing it twice.
 */
export async function publishOnce(js: JetStreamClient, subject: string, data: string, msgID: string): Promise<number> {
  try {
    return (await js.publish(subject, data, { msgID })).seq;
  } catch {
    return (await js.publish(subject, data, { msgID })).seq;
  }
}

/** The run's event-signing key, or null when this service runs without EVENT_SIGNING_SECRET. */
export function runKeyOf(ctx: Pick<RunsContext, 'eventSigningSecret'>, run: { run_id: string; system_label: string }): string | null {
  return ctx.eventSigningSecret ? deriveRunKey(ctx.eventSigningSecret, run.run_id, run.system_label) : null;
}

/**
 * A run event through the bus's one publisher, signed with the run's key, with one quick retry (a
 * client waits for the answer); `msgID` keeps an id this service used before eventMessageId existed.
 */
export function publishEvent(ctx: Pick<RunsContext, 'js' | 'eventSigningSecret'>, event: RunEvent, msgID?: string): Promise<number> {
  return new EventPublisher(ctx.js, silentLogger, 100, (e) => runKeyOf(ctx, e)).publish(event, undefined, msgID);
}

/**
 * The job on its system's work queue, carrying the run's key (JobMessage): the one place an agent
 * learns it, so only the agent that takes the job can sign the run's events.
 */
export function publishJob(ctx: Pick<RunsContext, 'js' | 'eventSigningSecret'>, job: Job, msgID: string): Promise<number> {
  const key = runKeyOf(ctx, job);
  return publishOnce(ctx.js, jobSubject(job.system_label), JSON.stringify(key ? { ...job, run_key: key } : job), msgID);
}

/** Best effort: the run was never queued, say so where clients look. */
export async function markFailed(ctx: RunsContext, runId: string, job: Job, cause: unknown): Promise<void> {
  const at = ctx.now().toISOString();
  const error = `not queued: ${(cause as Error)?.message ?? String(cause)}`;
  try {
    await ctx.runs.put(
      runId,
      JSON.stringify(RunStatus.parse({
        run_id: runId, system_label: job.system_label, workload_id: job.workload_id, status: 'failed', attempt: 0, error, submitted_at: job.submitted_at, updated_at: at,
      })),
    );
    const failed = RunFailedEvent.parse(runEvent('failed', { run_id: runId, attempt: 1, system_label: job.system_label }, { error, log_tail: [], final: true }, new Date(at)));
    await publishEvent(ctx, failed, `${runId}.failed.submit`);
  } catch {
    // The bus is down; the caller reports the original failure.
  }
}
