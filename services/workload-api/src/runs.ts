import { randomBytes } from 'node:crypto';
import {
  AGENTS_BUCKET,
  AgentInfo,
  BusError,
  ConflictError,
  FINISHED_RUN_STATUSES,
  JOBS_STREAM,
  RunCancelledEvent,
  changeRunStatus,
  checkRunPlan,
  Job,
  LimitError,
  NotFoundError,
  RunAcceptedEvent,
  RunFailedEvent,
  RunStatus,
  StorageError,
  ValidationError,
  ensureJobConsumer,
  eventSubject,
  jobSubject,
  parseOrThrow,
  resolveKvConfig,
} from '@kvbench/common';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import type { Limits } from './config.js';
import type { RunAccepted, RunRequest } from './schemas.js';
import { loadWorkload, workloadExists } from './workloads.js';
import { busCall } from './bus-call.js';

export interface RunsContext {
  js: JetStreamClient;
  jsm: JetStreamManager;
  runs: KV;
  /** Presence of host agents (AgentInfo by agent id). */
  agents: KV;
  workloads: ObjectStore;
  limits: Limits;
  allowEngineLaunchCommand: boolean;
  aggregatorUrl?: string | undefined;
  now: () => Date;
  /** Labels whose durable job consumer this process has already ensured. */
  ensuredLabels: Set<string>;
}

/** Presets named by the original's system labels; any other label must name its preset. */
const DEFAULT_PRESET: Readonly<Record<string, string>> = { pcie: 'config_pcie', c2c: 'config_c2c' };

/** Sortable by creation time, unique without coordination, and subject-safe (RunId). */
export function newRunId(now: Date): string {
  return `run-${now.getTime().toString(36)}-${randomBytes(5).toString('hex')}`;
}

export function configModuleFor(req: Pick<RunRequest, 'config_module' | 'system_label'>): string {
  const module = req.config_module ?? DEFAULT_PRESET[req.system_label];
  if (!module) {
    throw new ValidationError(
      `config_module is required for system '${req.system_label}' (defaults exist only for pcie and c2c)`,
      'config_module',
    );
  }
  return module;
}

/** Validate a run request against policy and the stores, and build its Job. */
export async function buildJob(ctx: RunsContext, req: RunRequest, runId: string): Promise<Job> {
  if (req.max_batch_size > ctx.limits.maxBatchSize) {
    throw new LimitError(
      `max_batch_size is ${req.max_batch_size}, more than MAX_BATCH_SIZE (${ctx.limits.maxBatchSize})`,
      'max_batch_size',
      ctx.limits.maxBatchSize,
    );
  }
  if (req.engine?.launch_command && !ctx.allowEngineLaunchCommand) {
    throw new ValidationError(
      'engine.launch_command is disabled on this server (ALLOW_ENGINE_LAUNCH_COMMAND); agents launch their configured engine',
      'engine.launch_command',
    );
  }
  const config_module = configModuleFor(req);
  // Throws a ValidationError on config_module listing the valid presets, or on a bad override.
  resolveKvConfig(config_module, req.overrides ?? {});
  if (!(await workloadExists(ctx.workloads, req.workload_id))) throw new NotFoundError('workload', req.workload_id);
  const engine = req.engine ?? { kind: 'sim' as const, options: {} };
  // What the CLI refuses before a run starts, refused here before it is queued (422, same message).
  checkRunPlan({
    workload: await loadWorkload(ctx.workloads, req.workload_id),
    system_label: req.system_label,
    engine,
    config_module,
    overrides: req.overrides ?? {},
    max_seq_len: req.max_seq_len,
    output_tokens: req.output_tokens,
  });
  return parseOrThrow(
    Job,
    {
      schema: 'kvbench.job',
      version: 1,
      run_id: runId,
      workload_id: req.workload_id,
      system_label: req.system_label,
      model: req.model,
      engine,
      config_module,
      overrides: req.overrides ?? {},
      max_batch_size: req.max_batch_size,
      max_seq_len: req.max_seq_len,
      output_tokens: req.output_tokens,
      temperature: req.temperature,
      top_p: req.top_p,
      notes: req.notes,
      submitted_at: ctx.now().toISOString(),
    },
    'job',
  );
}

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
  const accepted = RunAcceptedEvent.parse({
    schema: 'kvbench.event', version: 1, run_id: runId, attempt: 1, system_label: job.system_label, at, type: 'accepted', job,
  });
  let jobSeq: number;
  try {
    await publishOnce(ctx.js, eventSubject(runId, 'accepted'), JSON.stringify(accepted), `${runId}.accepted`);
    jobSeq = await publishOnce(ctx.js, jobSubject(job.system_label), JSON.stringify(job), runId);
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

/**
 * Host agents whose heartbeat is recent. The bucket's TTL removes silent agents; the age check
 * covers the moments before the server expires an entry. The keys come from the bucket's stream
 * info (one request) rather than `kv.keys()`, whose ordered consumer was seen to hang here while
 * heartbeats kept writing to the bucket.
 */
export async function liveAgents(jsm: JetStreamManager, agents: KV, now: Date): Promise<(AgentInfo & { age_s: number })[]> {
  return busCall('agents bucket', async () => {
    const prefix = `$KV.${AGENTS_BUCKET}.`;
    const info = await jsm.streams.info(`KV_${AGENTS_BUCKET}`, { subjects_filter: `${prefix}>` });
    const keys = Object.keys(info.state.subjects ?? {}).map((s) => s.slice(prefix.length));
    const out: (AgentInfo & { age_s: number })[] = [];
    for (const key of keys) {
      const entry = await agents.get(key);
      if (!entry || entry.operation !== 'PUT' || entry.length === 0) continue;
      let value: unknown;
      try {
        value = entry.json();
      } catch {
        continue;
      }
      const parsed = AgentInfo.safeParse(value);
      if (!parsed.success) continue;
      const age_s = Math.max(0, (now.getTime() - Date.parse(parsed.data.last_seen)) / 1000);
      if (age_s * 1000 > Math.max(3 * parsed.data.heartbeat_ms, 5_000)) continue;
      out.push({ ...parsed.data, age_s: Math.round(age_s * 10) / 10 });
    }
    out.sort((a, b) => a.system_label.localeCompare(b.system_label) || a.agent_id.localeCompare(b.agent_id));
    return out;
  });
}

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

/**
 * Publish with a message id, retrying once: when only the ack was lost the message is stored, and
 * JetStream's de-duplication (msgID within the duplicate window) keeps the retry from queueing it twice.
 */
async function publishOnce(js: JetStreamClient, subject: string, data: string, msgID: string): Promise<number> {
  try {
    return (await js.publish(subject, data, { msgID })).seq;
  } catch {
    return (await js.publish(subject, data, { msgID })).seq;
  }
}

/** Best effort: the run was never queued, say so where clients look. */
async function markFailed(ctx: RunsContext, runId: string, job: Job, cause: unknown): Promise<void> {
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

export async function getRunStatus(runs: KV, runId: string): Promise<RunStatus> {
  const entry = await busCall('runs bucket', () => runs.get(runId));
  if (!entry || entry.operation !== 'PUT' || entry.length === 0) throw new NotFoundError('run', runId);
  const parsed = RunStatus.safeParse(safeJson(entry));
  if (!parsed.success) throw new StorageError(`run ${runId}: stored status does not match the RunStatus schema`, { cause: parsed.error });
  return parsed.data;
}

export interface RunFilter {
  system_label?: string | undefined;
  status?: RunStatus['status'] | undefined;
  limit: number;
}

/** Newest first. Entries that do not parse (written by something else) are skipped. */
export async function listRuns(runs: KV, filter: RunFilter): Promise<RunStatus[]> {
  return busCall('runs bucket', async () => {
    const out: RunStatus[] = [];
    for await (const key of await runs.keys()) {
      const entry = await runs.get(key);
      if (!entry || entry.operation !== 'PUT' || entry.length === 0) continue;
      const parsed = RunStatus.safeParse(safeJson(entry));
      if (!parsed.success) continue;
      if (filter.system_label && parsed.data.system_label !== filter.system_label) continue;
      if (filter.status && parsed.data.status !== filter.status) continue;
      out.push(parsed.data);
    }
    out.sort((a, b) => b.submitted_at.localeCompare(a.submitted_at) || b.run_id.localeCompare(a.run_id));
    return out.slice(0, filter.limit);
  });
}

function safeJson(entry: { json<T>(): T }): unknown {
  try {
    return entry.json();
  } catch {
    return undefined;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
