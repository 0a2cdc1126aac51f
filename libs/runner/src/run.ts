/**
 * runBenchmark: one job, start to finish — engine up, statistics window open,
 * workload replayed with every sample published as it completes, statistics
 * closed, engine down, RunResult returned. On failure a `failed` event is
 * published and an EngineError (with the engine's last log lines) is thrown;
 * nothing is left running, so the next job starts clean.
 */
import { join } from 'node:path';
import {
  computeAggregate,
  EngineError,
  KvbenchError,
  RunCancelledError,
  measuredWindow,
  PERCENTILE_METHOD,
  resolveKvConfig,
  type Job,
  type KvConfig,
  type LogMetrics,
  type Logger,
  type RunEvent,
  type RunMeta,
  type RunResult,
  type Sample,
  type AnyWorkload,
} from '@kvbench/common';
import { clientOnlyBreakdown, engineBreakdown, requestTokens } from './breakdown.js';
import { requestCount } from '@kvbench/workload';
import { now } from './clock.js';
import { relateClocks } from './clock-offset.js';
import { startEngine, type EngineHandle } from './engine/start.js';
import { collectEnvironment } from './environment.js';
import { EventPublisher } from './events.js';
import { createKeepAliveAgent, type AnyAgent } from './http.js';
import { resolveAgentOptions, type AgentOptions, type ResolvedAgentOptions } from './options.js';
import { replayWorkload, type CompletedRequest } from './replay.js';
import { PrometheusStatsReader } from './stats/openai.js';
import { joinPerfMetrics, perfEntryFromMetricsHeaders, serverMetrics, type ClockRelation, type JoinCandidate, type PerfEntry } from './stats/perf-metrics.js';
import type { StatsReader } from './stats/reader.js';
import { TrtllmStatsReader } from './stats/trtllm-reader.js';
import { openaiUnits, trtllmReaderOptions } from './stats/reader-options.js';
import { gitCommit, kvbenchVersion } from './version.js';
import { clockOf, replayVirtual, VIRTUAL_CLOCK_RELATION } from './virtual-replay.js';
import { HostLatenessMeter } from './sim-lateness.js';

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

/** How long a finished sample waits for its /perf_metrics entry before it is published without it. */
const JOIN_WAIT_MS = 3_000;

export async function runBenchmark(ctx: RunContext): Promise<RunResult> {
  const agent = resolveAgentOptions(ctx.agent);
  const { job, workload, log } = ctx;
  const events = new EventPublisher(job, ctx.attempt, ctx.emit);
  const timers: NodeJS.Timeout[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  let engine: EngineHandle | null = null;
  let httpAgent: AnyAgent | null = null;
  const heartbeat = () => {
    try {
      ctx.heartbeat?.();
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'heartbeat failed');
    }
  };
  timers.push(setInterval(heartbeat, agent.heartbeatIntervalMs));

  try {
    const result = await execute(ctx, agent, events, (e) => (engine = e), (a) => (httpAgent = a), timers, cleanups);
    await events.flush();
    return result;
  } catch (err) {
    const aborted = ctx.signal?.aborted === true;
    const e = engine as EngineHandle | null;
    const tail = err instanceof EngineError && err.logTail.length ? err.logTail : (e?.tail(40) ?? []);
    const message = (err as Error).message ?? String(err);
    const error =
      err instanceof EngineError
        ? err
        : new EngineError(aborted ? `run aborted: ${message}` : message, tail, { cause: err });
    log.error({ run_id: job.run_id, attempt: ctx.attempt, err: error.message }, 'run failed');
    // A bus failure is the failure: publishing `failed` on the same bus would fail too.
    // A cancelled run is not a failed one: the agent publishes `cancelled` instead.
    const cancelled = ctx.signal?.reason instanceof RunCancelledError;
    const publishFailed = !cancelled && !(err instanceof KvbenchError && err.code === 'BUS_ERROR');
    if (publishFailed) {
      events.publish('failed', { error: error.message, log_tail: tail, final: !aborted });
      await events.flush().catch((pubErr) => log.error({ err: (pubErr as Error).message }, 'publishing the failed event failed'));
    }
    throw error;
  } finally {
    for (const t of timers) clearInterval(t);
    for (const c of cleanups) await c().catch(() => {});
    (httpAgent as AnyAgent | null)?.destroy();
    const e = engine as EngineHandle | null;
    if (e) {
      await e.stop().catch((err) => log.warn({ err: (err as Error).message }, 'stopping the engine failed'));
      if (agent.outputDir && e.launched) {
        await e.keepArtifacts(agent.outputDir, `${job.run_id}-attempt${ctx.attempt}-`).catch(() => {});
      }
    }
  }
}

async function execute(
  ctx: RunContext,
  agent: ResolvedAgentOptions,
  events: EventPublisher,
  setEngine: (e: EngineHandle) => void,
  setHttpAgent: (a: AnyAgent) => void,
  timers: NodeJS.Timeout[],
  cleanups: (() => Promise<void>)[],
): Promise<RunResult> {
  const { job, workload, log } = ctx;
  const kv = resolveKvConfig(job.config_module, job.overrides);
  const totalRequests = requestCount(workload);
  const runDir = join(agent.workDir, job.run_id, `attempt-${ctx.attempt}`);

  // Facts that do not depend on the engine, gathered while it starts.
  const envPromise = agent.collectEnvironment ? collectEnvironment() : Promise.resolve(null);
  const versionPromise = Promise.all([
    agent.kvbenchVersion !== undefined ? agent.kvbenchVersion : kvbenchVersion(),
    agent.gitCommit !== undefined ? agent.gitCommit : gitCommit(),
  ]);

  const engine = await startEngine({ job, kv, totalRequests, largestRequest: largestRequest(workload, job), agent, runDir, log, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  setEngine(engine);
  const simulated = job.engine.kind === 'sim' || engine.version.engine === 'sim';
  // Virtual clock: the simulator's modelled time is the run's clock (virtual-replay.ts), no scale.
  const clockKind = simulated && (engine.version.raw as Record<string, unknown>)['clock'] === 'virtual' ? 'virtual' : clockOf(job) === 'virtual' && simulated ? 'virtual' : 'real';
  // Only the simulator scales time; a real engine's clock is the real clock.
  const timeScale = clockKind === 'virtual' ? 1 : simulated && engine.version.time_scale && engine.version.time_scale > 0 ? engine.version.time_scale : 1;
  const lateness = simulated && clockKind === 'real' ? new HostLatenessMeter(timeScale) : null;

  const reader: StatsReader =
    job.engine.kind === 'openai'
      ? new PrometheusStatsReader(engine.url, log, openaiUnits(job, kv, agent))
      : new TrtllmStatsReader(engine.url, log, trtllmReaderOptions(engine));
  // Only /perf_metrics entries arrive late; per-request metrics by stream come with the sample itself.
  const joinLater = engine.perRequestMetrics.source === 'endpoint';
  if (reader.abandon) cleanups.push(() => reader.abandon!());
  await reader.open();
  const clock: ClockRelation =
    clockKind === 'virtual' ? VIRTUAL_CLOCK_RELATION : job.engine.kind === 'openai' ? { offsetS: null, how: 'no /perf_metrics' } : await relateClocks(engine.url, engine.launched);

  const [env, [version, commit]] = await Promise.all([envPromise, versionPromise]);
  let linkCheck: unknown = undefined;
  if (agent.linkCheck) {
    try {
      linkCheck = typeof agent.linkCheck === 'function' ? await agent.linkCheck() : agent.linkCheck;
    } catch (err) {
      linkCheck = { error: (err as Error).message };
    }
  }

  const startedAt = new Date().toISOString();
  const runMeta: RunMeta = { ...buildRunMeta({ ctx, kv, engine, simulated, timeScale, startedAt, env, version, commit, linkCheck }), clock: clockKind };
  events.publish('started', { expected_samples: totalRequests, run_meta: runMeta });
  log.info({ run_id: job.run_id, url: engine.url.href, requests: totalRequests, time_scale: timeScale }, 'replaying workload');

  // ---- measured window ----
  const httpAgent = createKeepAliveAgent(engine.url, Math.max(job.max_batch_size, 1) + 4);
  setHttpAgent(httpAgent);
  const runStart = now();
  const samples: Sample[] = [];
  const pending: { cand: JoinCandidate; doneAtMs: number }[] = [];
  const joinable: JoinCandidate[] = []; // every finished request, for late joins into the result
  let leftoverEntries: PerfEntry[] = [];
  let joinedCount = 0;
  const joinBy = new Map<string, number>();
  let failed = 0;
  let firstFailure: string | null = null;

  const noPerfMetrics =
    job.engine.kind === 'openai'
      ? 'an OpenAI-compatible engine (vLLM, SGLang) reports no per-request timings'
      : !joinLater
        ? "this engine build keeps no per-request /perf_metrics, and this request's stream carried no trtllm.perf_metrics event"
        : null;
  const attachEngineFigures = (p: { entry: PerfEntry; cand: JoinCandidate; by: string }) => {
    const times = { scheduledAt: p.cand.scheduledAt, writtenAt: p.cand.writtenAt ?? null, firstTextAt: p.cand.firstTextAt };
    p.cand.sample.breakdown = engineBreakdown(p.entry, times, clock, timeScale, p.by);
    lateness?.add(p.entry);
    p.cand.sample.tokens = requestTokens(p.cand.sample, p.entry, kv.tokens_per_block, null);
  };
  /** A sample published without its engine entry says why its engine-side parts are null. */
  const markUnjoined = (c: JoinCandidate, why: string) => {
    if (c.sample.server !== null) return;
    const times = { scheduledAt: c.scheduledAt, writtenAt: c.writtenAt ?? null, firstTextAt: c.firstTextAt };
    c.sample.breakdown = clientOnlyBreakdown(times, timeScale, why);
    c.sample.tokens = requestTokens(c.sample, null, kv.tokens_per_block, why);
  };

  const joinAndPublish = (final: boolean) => {
    const entries = [...leftoverEntries, ...reader.takePerfEntries()];
    if (entries.length) {
      const unjoined = joinable.filter((c) => c.sample.server === null);
      const { pairs, unmatchedEntries } = joinPerfMetrics(entries, unjoined, clock);
      for (const p of pairs) {
        p.cand.sample.server = serverMetrics(p.entry, p.cand, clock, timeScale, p.by);
        attachEngineFigures(p);
        joinedCount++;
        const key = p.by.startsWith('time') ? 'time' : 'id';
        joinBy.set(key, (joinBy.get(key) ?? 0) + 1);
      }
      leftoverEntries = unmatchedEntries;
    }
    const nowMs = Date.now();
    for (let i = 0; i < pending.length; ) {
      const p = pending[i]!;
      if (final || p.cand.sample.server !== null || nowMs - p.doneAtMs >= JOIN_WAIT_MS || !joinLater) {
        markUnjoined(
          p.cand,
          noPerfMetrics ??
            (final ? 'no /perf_metrics entry was joined to this request by the end of the run' : `no /perf_metrics entry was joined to this request within ${JOIN_WAIT_MS / 1000} s of its end`),
        );
        events.publish('sample', { sample: p.cand.sample });
        pending.splice(i, 1);
      } else i++;
    }
  };

  const onComplete = (done: CompletedRequest) => {
    samples.push(done.sample);
    if (!done.sample.ok) {
      failed++;
      firstFailure ??= `${done.sample.request_id}: ${done.sample.error}`;
      log.warn({ request_id: done.sample.request_id, err: done.sample.error }, 'request failed');
    }
    const cand: JoinCandidate = {
      sample: done.sample,
      responseId: done.outcome.responseId,
      scheduledAt: done.scheduledAt,
      writtenAt: done.outcome.sentAt,
      firstTextAt: done.outcome.firstTextAt,
      endAt: done.outcome.endAt,
    };
    const streamed = done.outcome.perfMetrics;
    if (streamed) {
      // TensorRT-LLM main: the request's own metrics, after [DONE] on its stream.
      const entry = perfEntryFromMetricsHeaders(streamed);
      if (entry) {
        cand.sample.server = serverMetrics(entry, cand, clock, timeScale, 'stream (event trtllm.perf_metrics)');
        attachEngineFigures({ entry, cand, by: 'stream (event trtllm.perf_metrics)' });
        joinedCount++;
        joinBy.set('stream', (joinBy.get('stream') ?? 0) + 1);
      }
    }
    joinable.push(cand);
    pending.push({ cand, doneAtMs: Date.now() });
    if (!joinLater) joinAndPublish(false);
  };

  let polling = true;
  let wakePoller: (() => void) | null = null;
  const stopPolling = () => {
    polling = false;
    wakePoller?.();
  };
  const pollLoop = (async () => {
    while (polling) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, agent.statsIntervalMs);
        wakePoller = () => {
          clearTimeout(t);
          r();
        };
      });
      wakePoller = null;
      if (!polling) break;
      try {
        await reader.poll();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'statistics poll failed');
      }
      joinAndPublish(false);
    }
  })();
  timers.push(
    setInterval(() => {
      events.publish('engine_stats', { final: false, log_metrics: reader.current() });
    }, agent.progressIntervalMs),
  );

  let replay: { completed: number; stoppedEarly: string | null };
  try {
    replay = await (clockKind === 'virtual' ? replayVirtual : replayWorkload)({
      workload,
      job,
      baseUrl: engine.url,
      agent: httpAgent,
      requestTimeoutMs: agent.requestTimeoutMs,
      timeScale,
      runStart: clockKind === 'virtual' ? 0n : runStart,
      onComplete,
      ...(engine.perRequestMetrics.source === 'stream' ? { requestHeaders: { 'X-TRTLLM-return-metrics': '1' } } : {}),
      stopReason: () => engine.deathReason() ?? (failed > agent.maxFailedRequests ? `${failed} request(s) failed; first: ${firstFailure}` : null),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  } catch (err) {
    stopPolling();
    await pollLoop;
    joinAndPublish(true); // what did finish is published before the failure
    throw err;
  }
  stopPolling();
  await pollLoop;
  if (ctx.signal?.aborted) {
    joinAndPublish(true);
    const reason = ctx.signal.reason instanceof Error ? ctx.signal.reason.message : String(ctx.signal.reason ?? 'aborted');
    throw new EngineError(`run aborted: ${reason}; ${samples.length} of ${totalRequests} requests had finished`, engine.tail(40));
  }
  if (failed > 0) await engine.settle(1_000); // a dying engine fails requests before its exit is seen
  const death = engine.deathReason();
  if (death) {
    joinAndPublish(true);
    throw new EngineError(`${death}; ${samples.length} of ${totalRequests} requests had finished`, engine.tail(40));
  }
  if (failed > agent.maxFailedRequests) {
    joinAndPublish(true);
    throw new EngineError(`${failed} of ${samples.length} requests failed (tolerated: ${agent.maxFailedRequests}); first: ${firstFailure}`, engine.tail(40));
  }

  const logMetrics: LogMetrics = await reader.close(job.engine.kind === 'openai' ? 0 : samples.length);
  joinAndPublish(true);
  const endedAt = new Date().toISOString();

  samples.sort((a, b) => a.batch_index - b.batch_index || a.index_in_batch - b.index_in_batch);
  const aggregate = computeAggregate(samples);
  const finalMeta: RunMeta = {
    ...runMeta,
    ...hostFigures(clockKind, simulated, lateness, aggregate),
    ended_at: endedAt,
    statistics: reader.describe(),
    perf_metrics_join: {
      source: engine.perRequestMetrics.source,
      source_reason: engine.perRequestMetrics.reason,
      clock: clock.how,
      clock_offset_s: clock.offsetS,
      joined: joinedCount,
      by: Object.fromEntries(joinBy),
      unjoined_samples: samples.length - joinedCount,
      unmatched_entries: leftoverEntries.length,
    },
  };
  events.publish('engine_stats', { final: true, log_metrics: logMetrics });
  events.publish('completed', {
    sample_count: samples.length,
    window_s: measuredWindow(samples),
    run_meta: finalMeta,
    log_metrics: logMetrics,
  });
  return { aggregate, log_metrics: logMetrics, samples, run_meta: finalMeta };
}

/** The request needing the longest sequence: its prompt and output tokens (a scenario request may set its own output). */
function largestRequest(workload: AnyWorkload, job: Job): { promptTokens: number; outputTokens: number } {
  const tokens = new Map(workload.prompts.map((p) => [p.id, p.tokens]));
  const requests = workload.version === 2 ? workload.requests : workload.batches.flatMap((b) => b.requests);
  let best = { promptTokens: 0, outputTokens: job.output_tokens };
  for (const r of requests) {
    const out = ('output_tokens' in r && typeof r.output_tokens === 'number' ? r.output_tokens : undefined) ?? job.output_tokens;
    const p = tokens.get(r.prompt_id) ?? 0;
    if (p + out > best.promptTokens + best.outputTokens) best = { promptTokens: p, outputTokens: out };
  }
  return best;
}

function buildRunMeta(a: {
  ctx: RunContext;
  kv: KvConfig;
  engine: EngineHandle;
  simulated: boolean;
  timeScale: number;
  startedAt: string;
  env: unknown;
  version: string | null;
  commit: string | null;
  linkCheck: unknown;
}): RunMeta {
  const { job, workload } = a.ctx;
  const e = a.engine;
  const requests = requestCount(workload);
  return {
    run_id: job.run_id,
    attempt: a.ctx.attempt,
    system_label: job.system_label,
    model: job.model,
    workload_id: job.workload_id,
    simulated: a.simulated,
    percentile_method: PERCENTILE_METHOD,
    config_module: job.config_module,
    overrides: job.overrides,
    kv_config: a.kv,
    engine_config: e.config,
    engine_config_yaml: e.configYaml,
    engine: {
      kind: job.engine.kind,
      version: e.version.version,
      reported_engine: e.version.engine,
      url: e.url.href,
      profile: e.profile,
      launched: e.launched,
      argv: e.argv,
      log_path: e.process?.logPath ?? null,
      config_path: e.configPath,
      options: job.engine.options,
      ...(e.build ? { build: e.build } : {}),
      ...(e.leftOut.length ? { left_out: e.leftOut } : {}),
      ...(e.openai ? { detected: e.openai } : {}),
      per_request_metrics: e.perRequestMetrics,
    },
    max_batch_size: job.max_batch_size,
    max_seq_len: job.max_seq_len,
    output_tokens: job.output_tokens,
    temperature: job.temperature,
    top_p: job.top_p,
    notes: job.notes,
    time_scale: a.timeScale,
    started_at: a.startedAt,
    ended_at: null,
    kvbench_version: a.version,
    git_commit: a.commit,
    ...(a.version === null || a.commit === null
      ? { absent: [...(a.version === null ? ['kvbench_version'] : []), ...(a.commit === null ? ['git_commit'] : [])] }
      : {}),
    kv_pools: kvPools(a.kv, e),
    environment: a.env,
    ...(a.linkCheck !== undefined ? { link_check: a.linkCheck } : {}),
    ...a.ctx.agent?.runMeta,
    workload: {
      tokenizer: workload.tokenizer,
      prompts: workload.prompts.length,
      batches: workload.version === 2 ? 0 : workload.batches.length,
      requests,
      params: workload.params,
      ...(workload.version === 2 ? { kind: workload.kind, max_concurrency: workload.max_concurrency, token_space: workload.token_space, sweep: workload.sweep } : {}),
    },
  };
}

/**
 * The KV pools in blocks, for the hit-rate prediction: as the engine reports them (the simulator's
 * /version gives gpu_blocks, host_blocks and block_bytes), else the GPU pool from the configuration
 * (max_tokens / tokens_per_block, an upper bound: TensorRT-LLM may make it smaller to fit memory)
 * and the host cache unknown in blocks (its bytes per block depend on the model).
 */
function kvPools(kv: KvConfig, e: EngineHandle): Record<string, unknown> {
  const raw = e.version.raw as Record<string, unknown>;
  const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null);
  if (int(raw['gpu_blocks']) !== null && int(raw['tokens_per_block'])) {
    return {
      gpu_blocks: int(raw['gpu_blocks']),
      host_blocks: int(raw['host_blocks']),
      tokens_per_block: int(raw['tokens_per_block']),
      block_bytes: int(raw['block_bytes']),
      ...(typeof raw['h2d_block_gbps'] === 'number' ? { h2d_block_gbps: raw['h2d_block_gbps'] } : {}),
      source: 'engine GET /version',
    };
  }
  return {
    gpu_blocks: Math.floor(kv.gpu_kv_max_tokens / kv.tokens_per_block),
    host_blocks: kv.host_cache_gb === 0 ? 0 : null,
    tokens_per_block: kv.tokens_per_block,
    block_bytes: null,
    source: 'kv_config (GPU pool = gpu_kv_max_tokens / tokens_per_block, at most; host cache size in blocks not reported by the engine)',
  };
}

/** run_meta.host_bound / host_lateness (sim-lateness.ts): null where the host cannot shape the times or they were not measured. */
function hostFigures(clockKind: 'real' | 'virtual', simulated: boolean, meter: HostLatenessMeter | null, aggregate: ReturnType<typeof computeAggregate>): Record<string, unknown> {
  if (!simulated) return { host_bound: null, host_lateness: null };
  if (clockKind === 'virtual') return { host_bound: false, host_lateness: null };
  return meter ? meter.summary(aggregate.ttft_p50_s ?? null) : { host_bound: null, host_lateness: null };
}
