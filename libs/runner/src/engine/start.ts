/**
 * Starting (or attaching to) the engine of a run. The simulator goes through
 * exactly the launch path of trtllm-serve: config file written, argv built,
 * spawned without a shell, /health polled until 200 — so tests of the `sim`
 * kind exercise the code that drives real TensorRT-LLM.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError, ValidationError, freePort, type Job, type KvConfig, type Logger } from '@kvbench/common';
import { httpJson, httpRequest } from '../http.js';
import type { ResolvedAgentOptions } from '../options.js';
import { trtllmConfigFor, trtllmConfigYaml, type LeftOut, type TrtllmConfig } from './config-yaml.js';
import { describeExit, spawnEngine, type EngineProcess } from './process.js';
import { describeBuild, detectTrtllm, simulatorBuild, type TrtllmBuild } from './trtllm-build.js';
import { checkOpenaiEngine, type OpenaiEngineFacts } from './openai-attach.js';
import { cap, type Capability } from './capabilities.js';

/** What /version said (trtllm: {version}; the simulator adds engine, profile, time_scale). */
export interface EngineVersion {
  version: string | null;
  engine: string | null;
  profile: string | null;
  time_scale: number | null;
  raw: unknown;
}

export interface EngineHandle {
  kind: Job['engine']['kind'];
  url: URL;
  /** true when kvbench started the process (and stops it). */
  launched: boolean;
  process: EngineProcess | null;
  /** The configuration file as sent (null when attached). */
  configYaml: string | null;
  config: TrtllmConfig | null;
  configPath: string | null;
  argv: readonly string[] | null;
  profile: string | null;
  version: EngineVersion;
  /** The TensorRT-LLM build (or the simulator) as detected; null for the openai kind. */
  build: TrtllmBuild | null;
  /** Keys kvbench left out of the config for this build, with their consequence. */
  leftOut: LeftOut[];
  /** Where per-request server metrics come from: GET /perf_metrics, the trailing SSE event, or nowhere. */
  perRequestMetrics: { source: 'endpoint' | 'stream' | 'none'; reason: string };
  /** Whether /kv_cache_events are worth reading (the build's iteration stats lack KV deltas, and the buffer is on). */
  readKvEvents: boolean;
  /** Why offload/onboard counts have no source when the events are not read (null: the iteration stats carry them). */
  kvEventsOffReason: string | null;
  /** What the running engine offers, each with how it was learned (probed after start, or the build's version). */
  capabilities: Capability[];
  /** A second reader may drain /metrics (the build's own collector): gaps in `iter` are expected. */
  iterStatsMayBeDrained: boolean;
  /** vLLM / SGLang facts learnt at attach (openai kind). */
  openai: OpenaiEngineFacts | null;
  /** Last log lines (empty when attached: kvbench has no access to the engine's log). */
  tail(n?: number): string[];
  /** A reason when a launched engine has exited. */
  deathReason(): string | null;
  /** Give a launched engine's exit up to `ms` to be noticed (requests can fail before the exit event arrives). */
  settle(ms: number): Promise<void>;
  stop(): Promise<void>;
  /** Copy the log and config into a directory kept with the results; returns the paths. */
  keepArtifacts(dir: string, prefix: string): Promise<{ log: string | null; config: string | null }>;
}

const option = (job: Job, key: string) => job.engine.options[key];
const numOption = (job: Job, key: string): number | undefined => {
  const v = option(job, key);
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) throw new ValidationError(`engine option ${key} must be a number, got ${JSON.stringify(v)}`, `engine.options.${key}`);
  return n;
};

/** trtllm-serve's default --max_num_tokens. */
const TRTLLM_DEFAULT_MAX_NUM_TOKENS = 8192;

/**
 * enable_chunked_prefill for the config file: as the job's options say, else on when a prompt may
 * be longer than max_num_tokens (TensorRT-LLM rejects such prompts without it), else unset.
 */
export function chunkedPrefillFor(job: Job): boolean | undefined {
  const explicit = option(job, 'enable_chunked_prefill');
  if (explicit !== undefined) return explicit === true || explicit === 'true';
  return job.max_seq_len > (numOption(job, 'max_num_tokens') ?? TRTLLM_DEFAULT_MAX_NUM_TOKENS) ? true : undefined;
}

/** trtllm-serve CLI flags kvbench passes through from job.engine.options when present. */
const TRTLLM_PASSTHROUGH = ['backend', 'tp_size', 'pp_size', 'ep_size', 'max_num_tokens', 'tokenizer'];
const boolOption = (job: Job, key: string): boolean | undefined => {
  const v = option(job, key);
  return v === undefined ? undefined : v === true || v === 'true';
};

const simLegacy = (a: StartEngineArgs) => a.agent.sim.legacyMetrics ?? (option(a.job, 'legacy_metrics') === true || option(a.job, 'legacy_metrics') === 'true');

export interface StartEngineArgs {
  job: Job;
  kv: KvConfig;
  totalRequests: number;
  /** The workload's request needing the longest sequence (checked against max_seq_len before a launch). */
  largestRequest: { promptTokens: number; outputTokens: number };
  agent: ResolvedAgentOptions;
  runDir: string;
  log: Logger;
  signal?: AbortSignal;
}

/** Launch the engine of the job (trtllm-serve or the simulator), or attach to job.engine.url. */
export async function startEngine(a: StartEngineArgs): Promise<EngineHandle> {
  return a.job.engine.url ? attachEngine(a, new URL(a.job.engine.url), false) : launchEngine(a);
}

/** vLLM and SGLang are attached by URL only. */
export async function attachOpenaiEngine(a: StartEngineArgs): Promise<EngineHandle> {
  if (!a.job.engine.url) {
    throw new ValidationError('engine kind "openai" (vLLM, SGLang) is attached by URL: give engine.url (--engine_url)', 'engine.url');
  }
  return attachEngine(a, new URL(a.job.engine.url), true);
}

/**
 * TensorRT-LLM clamps a request's max_tokens to max_seq_len − prompt length with only a warning
 * (ENGINES.md), so outputs would shorten silently: refused before anything starts.
 */
function checkMaxSeqLen(job: Job, largest: { promptTokens: number; outputTokens: number }): void {
  const needed = largest.promptTokens + largest.outputTokens;
  if (job.max_seq_len >= needed) return;
  throw new ValidationError(
    `max_seq_len ${job.max_seq_len} is below the workload's largest prompt (${largest.promptTokens} tokens) + output_tokens (${largest.outputTokens}) = ${needed}: ` +
      `TensorRT-LLM would cut those outputs short with only a warning in its log. Give --max_seq_len ${needed} or more.`,
    'max_seq_len',
  );
}

export async function launchEngine(a: StartEngineArgs): Promise<EngineHandle> {
  const { job, kv, agent } = a;
  const isSim = job.engine.kind === 'sim';
  checkMaxSeqLen(job, a.largestRequest);
  await mkdir(a.runDir, { recursive: true });

  // Know the build before writing its config (ENGINES.md: one unknown key and the server does not start).
  const pinned = option(job, 'trtllm_version');
  const build: TrtllmBuild = isSim
    ? simulatorBuild()
    : pinned !== undefined
      ? describeBuild(String(pinned), 'engine option trtllm_version', null)
      : await detectTrtllm(agent.trtllmServe, agent.engineEnv);
  const caps = build.capabilities;
  a.log.info({ version: build.version, generation: build.generation, source: build.versionSource }, 'TensorRT-LLM build');

  const leftOut: LeftOut[] = [];
  // Builds whose return_perf_metrics starts a collector draining /metrics: the iteration stats are the
  // benchmark's cache figures, the per-request breakdown is secondary, so per-request metrics stay off
  // unless the job asks (and then lost iterations are detected and reported).
  const askedPerf = boolOption(job, 'return_perf_metrics');
  const returnPerfMetrics = askedPerf ?? !caps.collectorDrainsIterStats;
  if (!returnPerfMetrics && caps.collectorDrainsIterStats && askedPerf === undefined) {
    leftOut.push({
      key: 'return_perf_metrics',
      reason: `on this build (${build.version ?? build.generation}) it starts a background iteration-stats collector that drains the queue GET /metrics reads (ENGINES.md, builds from about Dec 2025 until PR #13405): kvbench would receive a fraction of the iterations`,
      consequence: 'no per-request server metrics (sample.server null); give engine option return_perf_metrics=true to have them, with the window sums then marked unreliable where iterations were lost',
    });
  }
  const legacy = simLegacy(a);
  const hostCache = kv.host_cache_gb > 0;
  // The KV event buffer is never switched on by kvbench for a real engine: where iteration stats count
  // offloads (PR #12413, about 1.3.0rc8) it is not needed, and before PR #11576 (issue #4666) its
  // serializer crashes on the offload/onboard `updated` events of a host cache, killing the engine's
  // event thread (later requests fail). It also costs the engine a token-listing event per block (ENGINES.md).
  const askedEvents = numOption(job, 'event_buffer_max_size');
  if (!isSim && askedEvents !== undefined && askedEvents > 0 && hostCache && !caps.kvEventsSafeWithHostCache) {
    throw new ValidationError(
      `engine option event_buffer_max_size=${askedEvents} with a host cache (${kv.host_cache_gb} GB) would break TensorRT-LLM ${build.version ?? '(version unknown)'}: ` +
        'before PR #11576 the KV event serializer fails on the offload/onboard "updated" events (issue #4666), the event-dispatch thread dies and later requests fail. Leave event_buffer_max_size unset.',
      'engine.options.event_buffer_max_size',
    );
  }
  const eventBufferMaxSize = askedEvents ?? (isSim && legacy ? 200_000 : 0);
  const kvEventsOffReason = isSim
    ? (eventBufferMaxSize > 0 ? null : 'not needed: the simulator\'s iteration stats carry the offload/onboard counts')
    : eventBufferMaxSize > 0
      ? null
      : trtllmNoOffloadReason(build, hostCache);
  if (!isSim && hostCache && !caps.iterationKvDeltas) {
    leftOut.push({
      key: 'kv_cache_config.event_buffer_max_size',
      reason: 'KV events are unsafe with a host cache before PR #11576 (issue #4666: the serializer crashes on offload/onboard "updated" events, the engine\'s event thread dies)',
      consequence: 'offloaded/onboarded blocks and bytes are null: this build has no offload counters (kvCacheIterationStats arrives with PR #12413, about 1.3.0rc8)',
    });
  }
  const freeFraction = numOption(job, 'kv_cache_free_gpu_memory_fraction') ?? numOption(job, 'free_gpu_memory_fraction');
  const built = trtllmConfigFor(kv, {
    // Drained every poll; sized so a whole run fits even if polling stalls.
    perfMetricsMaxRequests: numOption(job, 'perf_metrics_max_requests') ?? Math.max(1024, a.totalRequests * 2),
    eventBufferMaxSize,
    // Long prompts (32K–128K) exceed trtllm-serve's default max_num_tokens (8192).
    enableChunkedPrefill: chunkedPrefillFor(job),
    returnPerfMetrics,
    capabilities: caps,
    ...(freeFraction !== undefined ? { freeGpuMemoryFraction: freeFraction } : {}),
  });
  const config = built.config;
  leftOut.push(...built.leftOut);
  const configYaml = trtllmConfigYaml(config);
  const configPath = join(a.runDir, 'engine-config.yaml');
  await writeFile(configPath, configYaml);

  // The simulator announces its port (--port 0); trtllm-serve gets a free one.
  const port = isSim ? 0 : await freePort();
  const maxNumTokens = numOption(job, 'max_num_tokens');
  const common = [
    job.model,
    caps.configFlag, configPath,
    '--max_batch_size', String(job.max_batch_size),
    '--max_seq_len', String(job.max_seq_len),
  ];
  let argv: string[];
  let profile: string | null = null;
  if (isSim) {
    const sim = agent.simulator;
    if (!sim) {
      throw new ValidationError('engine kind "sim" needs the simulator, and this runner was given none (AgentOptions.simulator: the CLI and the host agent hand in @kvbench/engine-sim\'s)', 'engine.kind');
    }
    const timeScale = agent.sim.timeScale ?? numOption(job, 'time_scale') ?? 1;
    profile = agent.sim.profile ?? (option(job, 'profile') as string | undefined) ?? sim.defaultProfileForSystem(job.system_label);
    const seed = agent.sim.seed ?? numOption(job, 'seed');
    const modelShape = option(job, 'model_shape');
    argv = [
      process.execPath,
      sim.mainPath,
      ...common,
      ...(maxNumTokens !== undefined ? ['--max_num_tokens', String(maxNumTokens)] : []),
      '--host', '127.0.0.1',
      '--port', String(port),
      '--profile', String(profile),
      ...(seed !== undefined ? ['--seed', String(seed)] : []),
      ...(modelShape !== undefined ? ['--model_shape', String(modelShape)] : []),
      '--time_scale', String(timeScale),
      ...(legacy ? ['--legacy_metrics'] : []),
    ];
  } else {
    const head = job.engine.launch_command ?? [agent.trtllmServe];
    const extra: string[] = [];
    for (const k of TRTLLM_PASSTHROUGH) {
      const v = option(job, k);
      if (v !== undefined) extra.push(`--${k}`, String(v));
    }
    argv = [...head, ...common, ...extra, '--host', '127.0.0.1', '--port', String(port)];
  }

  const logPath = join(a.runDir, 'engine.log');
  a.log.info({ argv, configPath, logPath }, 'starting engine');
  const proc = spawnEngine(argv, { logPath, ...(agent.engineEnv ? { env: agent.engineEnv } : {}) });
  const timeoutMs = agent.engineStartupTimeoutMs ?? (isSim ? 60_000 : 900_000);
  const fixedUrl = port ? `http://127.0.0.1:${port}` : null;
  let url: URL;
  try {
    url = await waitHealthy(proc, () => proc.announcedUrl() ?? fixedUrl, timeoutMs, a.signal);
  } catch (err) {
    await proc.stop(agent.stopGraceMs);
    throw err;
  }
  const version = await readVersion(url);
  // A build unknown before the start is read as /version then says (its config stayed the conservative one).
  const learnt = build.generation === 'unknown' && version.version !== null ? describeBuild(version.version, 'GET /version after start', build.flags) : null;
  const readBuild = learnt ?? build;
  const readCaps = readBuild.capabilities;
  // Probed, not assumed: does GET /perf_metrics exist on this server? (Before the window it holds nothing of the run.)
  const perfProbe = await probePath(url, '/perf_metrics');
  const perfSource: EngineHandle['perRequestMetrics'] = !config.return_perf_metrics
    ? { source: 'none', reason: leftOut.find((l) => l.key === 'return_perf_metrics')?.reason ?? 'return_perf_metrics off (engine option)' }
    : readCaps.perfMetricsByStream
      ? { source: 'stream', reason: 'X-TRTLLM-return-metrics: 1 on each request; event trtllm.perf_metrics after [DONE] (PR #16668)' }
      : perfProbe.status === 200
        ? { source: 'endpoint', reason: 'GET /perf_metrics (probed after start: 200)' }
        : readBuild.generation === 'unknown' || (isSim ? false : readCaps.perfMetricsEndpoint)
          ? // An unseen build without the endpoint: ask each request for its metrics the newer way (harmless where unknown).
            { source: 'stream', reason: `GET /perf_metrics ${perfProbe.what} after start; asking each request with X-TRTLLM-return-metrics: 1 (PR #16668 path)` }
          : { source: 'none', reason: leftOut.find((l) => l.key === 'perf_metrics_max_requests')?.reason ?? `this build has no per-request metrics path (GET /perf_metrics ${perfProbe.what})` };
  const capabilities = isSim
    ? [cap('perf_metrics_endpoint', perfProbe.status === 200, `probed: GET /perf_metrics ${perfProbe.what} after start`)]
    : trtllmCapabilityRecord(readBuild, perfProbe, config.kv_cache_config.event_buffer_max_size ?? 0, hostCache);

  return {
    kind: job.engine.kind,
    url,
    launched: true,
    process: proc,
    configYaml,
    config,
    configPath,
    argv,
    profile: version.profile ?? profile,
    version,
    build: learnt ? { ...build, versionAfterStart: version.version! } : build,
    leftOut,
    perRequestMetrics: perfSource,
    readKvEvents: (config.kv_cache_config.event_buffer_max_size ?? 0) > 0,
    kvEventsOffReason,
    capabilities,
    iterStatsMayBeDrained: readCaps.collectorDrainsIterStats && config.return_perf_metrics === true,
    openai: null,
    tail: (n) => proc.tail(n),
    deathReason: () => {
      const e = proc.exitInfo();
      return e ? `engine exited mid-run (${describeExit(e)})` : null;
    },
    settle: async (ms) => {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([proc.exited, new Promise<void>((r) => (t = setTimeout(r, ms)))]);
      clearTimeout(t);
    },
    stop: async () => {
      await proc.stop(agent.stopGraceMs);
    },
    keepArtifacts: async (dir, prefix) => {
      await mkdir(dir, { recursive: true });
      const logDst = join(dir, `${prefix}engine.log`);
      const cfgDst = join(dir, `${prefix}engine-config.yaml`);
      await copyFile(proc.logPath, logDst).catch(() => {});
      await copyFile(configPath, cfgDst).catch(() => {});
      return { log: logDst, config: cfgDst };
    },
  };
}

async function attachEngine(a: StartEngineArgs, url: URL, isOpenai: boolean): Promise<EngineHandle> {
  const base = new URL(url.href.replace(/\/+$/, ''));
  const timeoutMs = a.agent.engineStartupTimeoutMs ?? 30_000;
  await waitHealthy(null, () => base.href, timeoutMs, a.signal, isOpenai);
  const version = await readVersion(base);
  // vLLM refuses a foreign model name, SGLang serves no /metrics without --enable-metrics: one clear message now.
  const openai = isOpenai ? await checkOpenaiEngine(base, a.job.model) : null;
  // An attached TensorRT-LLM is described from /version; its config is not kvbench's to know.
  const build = isOpenai ? null : version.engine === 'sim' ? simulatorBuild() : describeBuild(version.version, 'GET /version of the attached engine', null);
  const caps = build?.capabilities;
  return {
    kind: a.job.engine.kind,
    url: base,
    launched: false,
    process: null,
    configYaml: null,
    config: null,
    configPath: null,
    argv: null,
    profile: version.profile,
    version,
    build,
    leftOut: [],
    perRequestMetrics: !caps
      ? { source: 'none', reason: 'vLLM and SGLang have no per-request server metrics kvbench reads' }
      : caps.perfMetricsByStream
        ? { source: 'stream', reason: 'X-TRTLLM-return-metrics: 1 on each request; event trtllm.perf_metrics after [DONE] (if the engine runs with return_perf_metrics)' }
        : caps.perfMetricsEndpoint || build?.generation === 'unknown'
          ? { source: 'endpoint', reason: 'GET /perf_metrics (if the engine runs with return_perf_metrics)' }
          : { source: 'none', reason: `TensorRT-LLM ${build?.version} has no GET /perf_metrics (PR #6985)` },
    // Unknown config: read events (reading never enables them) unless the build's iteration stats carry the KV deltas.
    readKvEvents: !!caps && !caps.iterationKvDeltas,
    kvEventsOffReason: !caps ? null : caps.iterationKvDeltas ? 'not needed: kvCacheIterationStats carry the offload/onboard counts (PR #12413)' : null,
    capabilities: build && build.generation !== 'sim' ? trtllmCapabilityRecord(build, null, null, null) : [],
    iterStatsMayBeDrained: !!caps && caps.collectorDrainsIterStats,
    openai,
    tail: () => [],
    deathReason: () => null,
    settle: async () => {},
    stop: async () => {},
    keepArtifacts: async () => ({ log: null, config: null }),
  };
}

/**
 * Poll /health until 200. A launched engine that exits, or does not become
 * healthy in time, fails with its last log lines. vLLM and SGLang also serve
 * /health; some OpenAI-compatible servers do not, so for them /v1/models counts too.
 */
async function waitHealthy(
  proc: EngineProcess | null,
  baseUrl: () => string | null,
  timeoutMs: number,
  signal?: AbortSignal,
  acceptModels = false,
): Promise<URL> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    if (signal?.aborted) throw new EngineError('engine start aborted', proc?.tail() ?? []);
    const exit = proc?.exitInfo();
    if (exit) {
      throw new EngineError(`engine exited before becoming healthy (${describeExit(exit)})`, proc!.tail());
    }
    const b = baseUrl();
    if (b) {
      for (const path of acceptModels ? ['/health', '/v1/models'] : ['/health']) {
        try {
          const res = await httpRequest(new URL(path, b), { timeoutMs: 5_000 });
          if (res.status === 200) return new URL(b);
          last = `${path} answered ${res.status}`;
        } catch (err) {
          last = `${path}: ${(err as Error).message}`;
        }
      }
    }
    if (Date.now() > deadline) {
      throw new EngineError(
        `engine did not become healthy within ${Math.round(timeoutMs / 1000)} s (${last})${b ? ` at ${b}` : ''}`,
        proc?.tail() ?? [],
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function readVersion(base: URL): Promise<EngineVersion> {
  try {
    const v = await httpJson<Record<string, unknown>>(new URL('/version', base), { timeoutMs: 5_000 });
    const str = (x: unknown) => (typeof x === 'string' ? x : x === undefined || x === null ? null : String(x));
    const ts = typeof v['time_scale'] === 'number' ? v['time_scale'] : null;
    return { version: str(v['version']), engine: str(v['engine']), profile: str(v['profile']), time_scale: ts, raw: v };
  } catch (err) {
    return { version: null, engine: null, profile: null, time_scale: null, raw: { error: (err as Error).message } };
  }
}

/** The true reason a TensorRT-LLM build gives kvbench no offload/onboard counts (null where its iteration stats carry them). */
export function trtllmNoOffloadReason(build: TrtllmBuild, hostCache: boolean): string | null {
  if (build.capabilities.iterationKvDeltas) return null;
  const base = 'kvCacheIterationStats arrives with PR #12413 (about 1.3.0rc8); KV events unsafe with a host cache before PR #11576 (issue #4666)';
  if (build.generation === 'unknown') return `the build is unknown (${build.versionSource}), so kvbench cannot show it has offload counters: ${base}`;
  return `this build (${build.version}) has no offload counters: ${base}${hostCache ? '' : '; no host cache is configured either'}`;
}

async function probePath(base: URL, path: string): Promise<{ status: number | null; what: string }> {
  try {
    const res = await httpRequest(new URL(path, base), { timeoutMs: 5_000 });
    return { status: res.status, what: `answered ${res.status}` };
  } catch (err) {
    return { status: null, what: `failed (${(err as Error).message})` };
  }
}

/** TensorRT-LLM's capability record before the window: probed where probing is harmless, else from the build. */
function trtllmCapabilityRecord(build: TrtllmBuild, perfProbe: { status: number | null; what: string } | null, eventBuffer: number | null, hostCache: boolean | null): Capability[] {
  const c = build.capabilities;
  const v = `build version ${build.version ?? 'unknown'} (${build.versionSource})`;
  const out: Capability[] = [];
  out.push(
    perfProbe
      ? cap('perf_metrics_endpoint', perfProbe.status === 200, `probed: GET /perf_metrics ${perfProbe.what} after start`, perfProbe.status === 200 ? undefined : 'PR #6985 added it (1.1); PR #16668 removed it (about 1.3.0rc24)')
      : cap('perf_metrics_endpoint', c.perfMetricsEndpoint, v, 'attached: not probed (it would drain another reader\'s entries)'),
  );
  out.push(cap('per_request_metrics_by_stream', c.perfMetricsByStream, `${v}: PR #16668 (about 1.3.0rc24)`, c.perfMetricsByStream ? undefined : 'older builds keep per-request metrics in GET /perf_metrics'));
  out.push(cap('kv_iteration_stats', c.iterationKvDeltas, `${v}: PR #12413 (about 1.3.0rc8); replaced by what /metrics shows once iterations arrive`, c.iterationKvDeltas ? undefined : 'no kvCacheIterationStats before PR #12413: no offload/onboard counters'));
  out.push(
    cap(
      'kv_events_safe_with_host_cache',
      c.kvEventsSafeWithHostCache,
      `${v}: PR #11576 / issue #4666; never probed (a probe would be the crash itself)`,
      c.kvEventsSafeWithHostCache ? undefined : 'the event serializer crashes on offload/onboard updated events; the event buffer stays off',
    ),
  );
  if (eventBuffer !== null) out.push(cap('kv_event_buffer', eventBuffer > 0, `config written by kvbench: event_buffer_max_size ${eventBuffer}`, eventBuffer > 0 ? undefined : hostCache ? 'left off: unsafe or unneeded with a host cache on this build' : 'left off: not needed'));
  out.push(cap('iteration_stats_collector_drains_metrics', c.collectorDrainsIterStats, `${v}: PR #11243 (about 1.3.0rc5) until PR #13405 (about 1.3.0rc12); confirmed by gaps in iter when observed`));
  out.push(cap('kv_cache_events_wait_2s', c.kvEventsWait, `${v}: 1.0-1.2 get_kv_cache_events_async(2), 1.3 get_kv_cache_events_async(0)`));
  return out;
}
