import { BusError, RunAcceptedEvent, RunStatus, runEvent } from '@kvbench/common';
import { changeRunStatus, ensureJobConsumer } from '@kvbench/bus';
import type { RunAccepted, RunRequest } from '../schemas.js';
import { busCall } from '../bus-call.js';
import type { RunsContext } from './context.js';
import { buildJob, newRunId } from './job.js';
import { liveAgents } from './presence.js';
import { markFailed, publishEvent, publishJob } from './publish.js';

/**
 * Accept a run: status `queued` in the runs bucket, the accepted event, then the job on its
 * system's work queue. The status is written first so an agent that starts the job at once can
 * only move it forward; the event precedes the job so `accepted` is first in the run's events.
 */
export async function submitRun(ctx: RunsContext, req: RunRequest): Promise<RunAccepted> {
  const now = ctx.now();
  const runId = newRunId(now);
  const job = await buildJob(ctx, req, runId);
  const at = now.toISOString();

  try {
    if (!ctx.ensuredLabels.has(job.system_label)) {
      // The durable consumer holds the job for its machine even if no agent of that label runs yet.
      await ensureJobConsumer(ctx.jsm, job.system_label);
      ctx.ensuredLabels.add(job.system_label);
    }
    const status = RunStatus.parse({
      run_id: runId,
      system_label: job.system_label,
      workload_id: job.workload_id,
      status: 'queued',
      attempt: 0,
      submitted_at: at,
      updated_at: at,
    });
    await ctx.runs.create(runId, JSON.stringify(status));
  } catch (err) {
    throw new BusError(`could not queue run ${runId}: ${(err as Error).message}`, { cause: err });
  }

  // The accepted event describes the job, so it uses the schema's first attempt number (1).
  const accepted = RunAcceptedEvent.parse(runEvent('accepted', { run_id: runId, attempt: 1, system_label: job.system_label }, { job }, new Date(at)));
  let jobSeq: number;
  try {
    await publishEvent(ctx, accepted, `${runId}.accepted`);
    jobSeq = await publishJob(ctx, job, runId);
  } catch (err) {
    await markFailed(ctx, runId, job, err);
    throw new BusError(`could not publish run ${runId}: ${(err as Error).message}`, { cause: err });
  }
  // Where the job sits in its queue, so a cancel can take it off. An agent may already have moved it on.
  await busCall('runs bucket', () =>
    changeRunStatus(ctx.runs, runId, (s) => (s && s.job_seq === null ? { ...s, job_seq: jobSeq } : null)),
  );
  // Presence is advice: it may never hold up (or fail) a run that is already queued.
  const serving = await withTimeout(liveAgents(ctx.jsm, ctx.agents, ctx.now()), 3000).then(
    (agents) => agents.filter((a) => a.system_label === job.system_label).length,
    () => null,
  );
  return {
    run_id: runId,
    status: 'queued',
    status_url: `/runs/${runId}`,
    ...(ctx.aggregatorUrl ? { events_url: `${ctx.aggregatorUrl}/runs/${runId}/events` } : {}),
    agents_serving: serving,
    ...(serving === null
      ? { warning: 'could not read which host agents are connected (GET /agents); the run is queued for its system' }
      : serving === 0
      ? { warning: `no host agent serving system '${job.system_label}' is connected: the run waits in its queue until one starts (GET /agents lists them)` }
      : {}),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

