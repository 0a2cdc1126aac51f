import { RunFailedEvent, RunStatus, type Job } from '@kvbench/common';
import { eventSubject } from '@kvbench/bus';
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
    const failed = RunFailedEvent.parse({
      schema: 'kvbench.event', version: 1, run_id: runId, attempt: 1, system_label: job.system_label, at, type: 'failed', error, final: true,
    });
    await ctx.js.publish(eventSubject(runId, 'failed'), JSON.stringify(failed), { msgID: `${runId}.failed.submit` });
  } catch {
    // The bus is down; the caller reports the original failure.
  }
}
