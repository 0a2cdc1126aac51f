/**
 * How an agent runs engines. Everything has a default; the CLI and the host
 * agent pass what their configuration says (no process.env is read here).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SimOptions {
  /** Simulator time scale S: it runs S× real time (0.1 = ten times faster). Overrides job.engine.options.time_scale. */
  timeScale?: number;
  /** Hardware profile name; default: the engine-sim default for the system label. */
  profile?: string;
  seed?: number;
  /** Simulator clock: virtual (modelled time, no sleeping; virtual-clock.ts) or real. Overrides job.engine.options.clock. */
  clock?: 'real' | 'virtual';
  /** Serve the older /metrics shape (no kvCacheIterationStats), to exercise the /kv_cache_events path. */
  legacyMetrics?: boolean;
}

/**
 * The simulator, handed in by the caller (the CLI, the host agent): the runner is a
 * library and never imports a service, so it only knows how to spawn what it is given.
 */
export interface SimulatorLauncher {
  /** Path of the simulator's main script (run with this Node). */
  mainPath: string;
  /** Hardware profile for a system label, when neither the agent nor the job names one. */
  defaultProfileForSystem(systemLabel: string): string;
}

export interface AgentOptions {
  /** Directory for each run's engine log and config file. Default: <tmpdir>/kvbench-runs. */
  workDir?: string;
  /** Copy the engine log and config file here when the run ends (kept with the results). */
  outputDir?: string;
  /** How long a launched engine may take to answer /health with 200. Default 900 s (trtllm), 60 s (sim). */
  engineStartupTimeoutMs?: number;
  /** Per-request limit, from sending to the end of the stream. Default 600 s. */
  requestTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace when stopping a launched engine. Default 15 s. */
  stopGraceMs?: number;
  /** How often the statistics reader polls the engine. Default 500 ms. */
  statsIntervalMs?: number;
  /**
   * The window's end waits until the engine's counters stop moving, at most this long (vLLM's offloading
   * connector stores a finished request's KV after the request ends; ENGINES.md, vLLM). Default 15 s.
   */
  counterSettleMaxMs?: number;
  /** How often an engine_stats progress event is emitted. Default 5 s. */
  progressIntervalMs?: number;
  /** How often ctx.heartbeat() is called. Default 2 s. */
  heartbeatIntervalMs?: number;
  /** Failed requests tolerated before the run fails. Default 0: a benchmark with failed requests is not comparable. */
  maxFailedRequests?: number;
  /** trtllm-serve executable (name looked up on PATH, or a path). Default "trtllm-serve". */
  trtllmServe?: string;
  /** Environment of launched engines (PATH, CUDA_VISIBLE_DEVICES...). Default: this process's environment. */
  engineEnv?: NodeJS.ProcessEnv;
  sim?: SimOptions;
  /** How to start the simulator; jobs of kind "sim" are refused without it. */
  simulator?: SimulatorLauncher;
  /**
   * The model's KV bytes per token (whole model), where the caller knows the model's shape: turns
   * SGLang's token counters into bytes when the job gives no kv_bytes_per_token / model_shape.
   */
  modelKvBytesPerToken?: (model: string) => number | null;
  /** A link-check result (or a function producing it) carried into run_meta.link_check as given. */
  linkCheck?: Record<string, unknown> | (() => Promise<Record<string, unknown> | null> | Record<string, unknown> | null);
  /** kvbench version and git commit for run_meta; detected best-effort when absent. */
  kvbenchVersion?: string;
  gitCommit?: string;
  /** Collect GPU/CPU/host facts for run_meta (nvidia-smi, /proc). Default true. */
  collectEnvironment?: boolean;
  /** Extra fields for run_meta from the caller (the host agent's clock offset against the aggregator). */
  runMeta?: Record<string, unknown>;
}

export interface ResolvedAgentOptions extends Required<Omit<AgentOptions, 'outputDir' | 'engineStartupTimeoutMs' | 'engineEnv' | 'linkCheck' | 'kvbenchVersion' | 'gitCommit' | 'sim' | 'simulator' | 'modelKvBytesPerToken' | 'runMeta'>> {
  simulator: SimulatorLauncher | null;
  modelKvBytesPerToken: ((model: string) => number | null) | null;
  runMeta: Record<string, unknown>;
  outputDir: string | undefined;
  engineStartupTimeoutMs: number | undefined;
  engineEnv: NodeJS.ProcessEnv | undefined;
  linkCheck: AgentOptions['linkCheck'];
  kvbenchVersion: string | undefined;
  gitCommit: string | undefined;
  sim: SimOptions;
}

export function resolveAgentOptions(o: AgentOptions = {}): ResolvedAgentOptions {
  return {
    workDir: o.workDir ?? join(tmpdir(), 'kvbench-runs'),
    outputDir: o.outputDir,
    engineStartupTimeoutMs: o.engineStartupTimeoutMs,
    requestTimeoutMs: o.requestTimeoutMs ?? 600_000,
    stopGraceMs: o.stopGraceMs ?? 15_000,
    statsIntervalMs: o.statsIntervalMs ?? 500,
    counterSettleMaxMs: o.counterSettleMaxMs ?? 15_000,
    progressIntervalMs: o.progressIntervalMs ?? 5_000,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? 2_000,
    maxFailedRequests: o.maxFailedRequests ?? 0,
    trtllmServe: o.trtllmServe ?? 'trtllm-serve',
    engineEnv: o.engineEnv,
    sim: o.sim ?? {},
    simulator: o.simulator ?? null,
    modelKvBytesPerToken: o.modelKvBytesPerToken ?? null,
    linkCheck: o.linkCheck,
    kvbenchVersion: o.kvbenchVersion,
    gitCommit: o.gitCommit,
    collectEnvironment: o.collectEnvironment ?? true,
    runMeta: o.runMeta ?? {},
  };
}
