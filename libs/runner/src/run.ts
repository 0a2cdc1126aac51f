/**
 * runBenchmark: one job, start to finish — engine up, statistics window open, workload replayed with
 * every sample published as it completes, statistics closed, engine down, RunResult returned.
 *
 * A `Run` owns what a run holds (engine, HTTP agent, timers, cleanups) and releases all of it however the
 * run ends, so the next job starts clean. Everything engine-specific goes through the engine kind's
 * adapter (adapters/). Errors keep their kind: an engine failure is an EngineError (with the engine's last
 * log lines), a refusal a ValidationError, a bus failure a BusError — the host agent retries only what a
 * retry can fix. A `failed` event is published unless the bus itself failed or the run was cancelled.
 */
import { join } from 'node:path';
import {
  computeAggregate,
  EngineError,
  KvbenchError,
  RunCancelledError,
  measuredWindow,
  resolveKvConfig,
  type Job,
  type KvConfig,
  type LogMetrics,
  type RunMeta,
  type RunResult,
  type Sample,
  type AnyWorkload,
  type Logger,
  type RunEvent,
} from '@kvbench/common';
import { requestCount } from '@kvbench/workload';
import { adapterFor, type EngineAdapter } from './adapters/index.js';
import { now } from './clock.js';
import { mergeCapabilities } from './engine/capabilities.js';
import type { EngineHandle } from './engine/start.js';
import { collectEnvironment } from './environment.js';
import { RunEventQueue } from './events.js';
import { createKeepAliveAgent, type AnyAgent } from './http.js';
import { resolveAgentOptions, type AgentOptions, type ResolvedAgentOptions } from './options.js';
import { PerRequestJoin } from './per-request-join.js';
import { replayWorkload, type CompletedRequest } from './replay.js';
import { HostLatenessMeter } from './sim-lateness.js';
import { clockOf, virtualClock, VIRTUAL_CLOCK_RELATION } from './virtual-clock.js';
import { buildRunMeta, largestRequest } from './run-meta.js';
import type { StatsReader } from './stats/reader.js';
import { gitCommit, kvbenchVersion } from './version.js';

export interface RunContext {
  job: Job;
  workload: AnyWorkload;
  /** 1, 2, ... (the host agent passes the JetStream delivery count). */
  attempt: number;
  /** Publish an event: started, sample (as each completes), engine_stats (progress + final), completed, failed. */
  emit(event: RunEvent): Promise<void>;
  /** Abort the run (agent shutdown). */
  signal?: AbortSignal;
  log: Logger;
  /** Called every few seconds during the run (the host agent maps it to msg.working()). */
  heartbeat?(): void;
  agent?: AgentOptions;
}

export async function runBenchmark(ctx: RunContext): Promise<RunResult> {
  return new Run(ctx).execute();
}

/** The statistics poll loop: one reader poll (and a join pass) every interval, until stopped. */
class PollLoop {
  private polling = true;
  private wake: (() => void) | null = null;
  readonly done: Promise<void>;

  constructor(intervalMs: number, step: () => Promise<void>) {
    this.done = (async () => {
      while (this.polling) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, intervalMs);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = null;
        if (!this.polling) break;
        await step();
      }
    })();
  }

  async stop(): Promise<void> {
    this.polling = false;
    this.wake?.();
    await this.done;
  }
}

export class Run {
  private readonly agent: ResolvedAgentOptions;
  private readonly adapter: EngineAdapter;
  private readonly events: RunEventQueue;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly cleanups: (() => Promise<void>)[] = [];
  private engine: EngineHandle | null = null;
  private httpAgent: AnyAgent | null = null;

  constructor(private readonly ctx: RunContext) {
    this.agent = resolveAgentOptions(ctx.agent);
    this.adapter = adapterFor(ctx.job.engine.kind);
    this.events = new RunEventQueue(ctx.job, ctx.attempt, ctx.emit);
  }

  private get log() {
    return this.ctx.log;
  }

  async execute(): Promise<RunResult> {
    this.timers.push(setInterval(() => this.heartbeat(), this.agent.heartbeatIntervalMs));
    try {
      const result = await this.measure();
      await this.events.flush();
      return result;
    } catch (err) {
      throw await this.fail(err);
    } finally {
      await this.release();
    }
  }

  private heartbeat(): void {
    try {
      this.ctx.heartbeat?.();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'heartbeat failed');
    }
  }

  /**
   * The error to throw, its kind kept: kvbench's own errors as they are (a bus error stays a bus error,
   * so the host agent retries it), anything else an EngineError with the engine's last log lines.
   */
  private async fail(err: unknown): Promise<Error> {
    const { job, attempt } = this.ctx;
    const aborted = this.ctx.signal?.aborted === true;
    const tail = err instanceof EngineError && err.logTail.length ? err.logTail : (this.engine?.tail(40) ?? []);
    const message = (err as Error)?.message ?? String(err);
    const error: Error =
      err instanceof KvbenchError ? err : new EngineError(aborted ? `run aborted: ${message}` : message, tail, { cause: err });
    this.log.error({ run_id: job.run_id, attempt, err: error.message, kind: (error as KvbenchError).code ?? 'ENGINE_ERROR' }, 'run failed');
    // A bus failure is the failure: publishing `failed` on the same bus would fail too.
    // A cancelled run is not a failed one: the agent publishes `cancelled` instead.
    const cancelled = this.ctx.signal?.reason instanceof RunCancelledError;
    const busFailed = err instanceof KvbenchError && err.code === 'BUS_ERROR';
    if (!cancelled && !busFailed) {
      this.events.publish('failed', { error: error.message, log_tail: tail, final: !aborted });
      await this.events.flush().catch((pubErr) => this.log.error({ err: (pubErr as Error).message }, 'publishing the failed event failed'));
    }
    return error;
  }

  /** Everything the run holds goes, whatever happened. */
  private async release(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const c of this.cleanups) await c().catch(() => {});
    this.httpAgent?.destroy();
    const e = this.engine;
    if (e) {
      await e.stop().catch((err) => this.log.warn({ err: (err as Error).message }, 'stopping the engine failed'));
      if (this.agent.outputDir && e.launched) {
        await e.keepArtifacts(this.agent.outputDir, `${this.ctx.job.run_id}-attempt${this.ctx.attempt}-`).catch(() => {});
      }
    }
  }

  private async measure(): Promise<RunResult> {
    const { job, workload, log } = this.ctx;
    const agent = this.agent;
    const kv: KvConfig = resolveKvConfig(job.config_module, job.overrides);
    const totalRequests = requestCount(workload);
    const runDir = join(agent.workDir, job.run_id, `attempt-${this.ctx.attempt}`);

    // Facts that do not depend on the engine, gathered while it starts.
    const envPromise = agent.collectEnvironment ? collectEnvironment() : Promise.resolve(null);
    const versionPromise = Promise.all([
      agent.kvbenchVersion !== undefined ? agent.kvbenchVersion : kvbenchVersion(),
      agent.gitCommit !== undefined ? agent.gitCommit : gitCommit(),
    ]);

    const engine = await this.adapter.start({
      job, kv, totalRequests, largestRequest: largestRequest(workload, job), agent, runDir, log, ...(this.ctx.signal ? { signal: this.ctx.signal } : {}),
    });
    this.engine = engine;
    const simulated = this.adapter.simulated(engine);
    // Virtual clock: the simulator's modelled time is the run's clock (virtual-clock.ts), no scale.
    const clockKind: 'real' | 'virtual' =
      simulated && ((engine.version.raw as Record<string, unknown>)['clock'] === 'virtual' || clockOf(job) === 'virtual') ? 'virtual' : 'real';
    const timeScale = clockKind === 'virtual' ? 1 : this.adapter.timeScale(engine);
    const lateness = simulated && clockKind === 'real' ? new HostLatenessMeter(timeScale) : null;

    const reader: StatsReader = this.adapter.reader(engine, { job, kv, agent, log });
    if (reader.abandon) this.cleanups.push(() => reader.abandon!());
    await reader.open();
    const clock = clockKind === 'virtual' ? VIRTUAL_CLOCK_RELATION : await this.adapter.relateClock(engine);

    const [env, [version, commit]] = await Promise.all([envPromise, versionPromise]);
    const linkCheck = await this.linkCheck();
    const startedAt = new Date().toISOString();
    const runMeta: RunMeta = { ...buildRunMeta({ ctx: this.ctx, kv, engine, simulated, timeScale, startedAt, env, version, commit, linkCheck }), clock: clockKind };
    this.events.publish('started', { expected_samples: totalRequests, run_meta: runMeta });
    log.info({ run_id: job.run_id, url: engine.url.href, requests: totalRequests, time_scale: timeScale }, 'replaying workload');

    // ---- measured window ----
    this.httpAgent = createKeepAliveAgent(engine.url, Math.max(job.max_batch_size, 1) + 4);
    const runStart = now();
    const samples: Sample[] = [];
    let failed = 0;
    let firstFailure: string | null = null;
    const requests = new PerRequestJoin(this.adapter.perRequest(engine), clock, timeScale, kv, (sample) => this.events.publish('sample', { sample }), (entry) => lateness?.add(entry));
    const onComplete = (done: CompletedRequest) => {
      samples.push(done.sample);
      if (!done.sample.ok) {
        failed++;
        firstFailure ??= `${done.sample.request_id}: ${done.sample.error}`;
        log.warn({ request_id: done.sample.request_id, err: done.sample.error }, 'request failed');
      }
      requests.add(done);
    };
    const poller = new PollLoop(agent.statsIntervalMs, async () => {
      try {
        await reader.poll();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'statistics poll failed');
      }
      requests.flush(reader.takePerfEntries(), false);
    });
    this.timers.push(setInterval(() => this.events.publish('engine_stats', { final: false, log_metrics: reader.current() }), agent.progressIntervalMs));
    /** What did finish is published before a failure is raised. */
    const stopAndPublish = async () => {
      await poller.stop();
      requests.flush(reader.takePerfEntries(), true);
    };

    const headers = this.adapter.requestHeaders(engine);
    try {
      await replayWorkload({
        workload,
        job,
        baseUrl: engine.url,
        agent: this.httpAgent,
        requestTimeoutMs: agent.requestTimeoutMs,
        timeScale,
        runStart: clockKind === 'virtual' ? 0n : runStart,
        ...(clockKind === 'virtual' ? { clock: virtualClock(engine.url, this.ctx.signal) } : {}),
        onComplete,
        ...(headers ? { requestHeaders: headers } : {}),
        stopReason: () => engine.deathReason() ?? (failed > agent.maxFailedRequests ? `${failed} request(s) failed; first: ${firstFailure}` : null),
        ...(this.ctx.signal ? { signal: this.ctx.signal } : {}),
      });
    } catch (err) {
      await stopAndPublish();
      throw err;
    }
    await poller.stop();
    if (this.ctx.signal?.aborted) {
      requests.flush(reader.takePerfEntries(), true);
      const reason = this.ctx.signal.reason instanceof Error ? this.ctx.signal.reason.message : String(this.ctx.signal.reason ?? 'aborted');
      throw new EngineError(`run aborted: ${reason}; ${samples.length} of ${totalRequests} requests had finished`, engine.tail(40));
    }
    if (failed > 0) await engine.settle(1_000); // a dying engine fails requests before its exit is seen
    const death = engine.deathReason();
    if (death) {
      requests.flush(reader.takePerfEntries(), true);
      throw new EngineError(`${death}; ${samples.length} of ${totalRequests} requests had finished`, engine.tail(40));
    }
    if (failed > agent.maxFailedRequests) {
      requests.flush(reader.takePerfEntries(), true);
      throw new EngineError(`${failed} of ${samples.length} requests failed (tolerated: ${agent.maxFailedRequests}); first: ${firstFailure}`, engine.tail(40));
    }

    const logMetrics: LogMetrics = await reader.close(this.adapter.expectedPerfEntries(engine, samples.length));
    requests.flush(reader.takePerfEntries(), true);
    const endedAt = new Date().toISOString();

    samples.sort((a, b) => a.batch_index - b.batch_index || a.index_in_batch - b.index_in_batch);
    const aggregate = computeAggregate(samples);
    const finalMeta: RunMeta = {
      ...runMeta,
      ...hostFigures(clockKind, simulated, lateness, aggregate),
      ended_at: endedAt,
      statistics: reader.describe(),
      engine: { ...(runMeta['engine'] as Record<string, unknown>), capabilities: mergeCapabilities(engine.capabilities, reader.capabilities?.() ?? []) },
      perf_metrics_join: {
        source: engine.perRequestMetrics.source,
        source_reason: engine.perRequestMetrics.reason,
        clock: clock.how,
        clock_offset_s: clock.offsetS,
        ...requests.summary(samples.length),
      },
    };
    this.events.publish('engine_stats', { final: true, log_metrics: logMetrics });
    this.events.publish('completed', { sample_count: samples.length, window_s: measuredWindow(samples), run_meta: finalMeta, log_metrics: logMetrics });
    return { aggregate, log_metrics: logMetrics, samples, run_meta: finalMeta };
  }

  private async linkCheck(): Promise<unknown> {
    const lc = this.agent.linkCheck;
    if (!lc) return undefined;
    try {
      return typeof lc === 'function' ? await lc() : lc;
    } catch (err) {
      return { error: (err as Error).message };
    }
  }
}

/** run_meta.host_bound / host_lateness (sim-lateness.ts): null where the host cannot shape the times or they were not measured. */
function hostFigures(
  clockKind: 'real' | 'virtual',
  simulated: boolean,
  meter: HostLatenessMeter | null,
  aggregate: ReturnType<typeof computeAggregate>,
): Record<string, unknown> {
  if (!simulated) return { host_bound: null, host_lateness: null };
  if (clockKind === 'virtual') return { host_bound: false, host_lateness: null };
  return meter ? meter.summary(aggregate.ttft_p50_s ?? null) : { host_bound: null, host_lateness: null };
}
