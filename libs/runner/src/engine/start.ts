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
import { trtllmConfig, trtllmConfigYaml, type TrtllmConfig } from './config-yaml.js';
import { describeExit, spawnEngine, type EngineProcess } from './process.js';

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

/** trtllm-serve CLI flags kvbench passes through from job.engine.options when present. */
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

const TRTLLM_PASSTHROUGH = ['backend', 'tp_size', 'pp_size', 'ep_size', 'max_num_tokens', 'kv_cache_free_gpu_memory_fraction', 'tokenizer'];

const simLegacy = (a: StartEngineArgs) => a.agent.sim.legacyMetrics ?? (option(a.job, 'legacy_metrics') === true || option(a.job, 'legacy_metrics') === 'true');

export interface StartEngineArgs {
  job: Job;
  kv: KvConfig;
  totalRequests: number;
  agent: ResolvedAgentOptions;
  runDir: string;
  log: Logger;
  signal?: AbortSignal;
}

export async function startEngine(a: StartEngineArgs): Promise<EngineHandle> {
  const { job } = a;
  if (job.engine.url) return attachEngine(a, new URL(job.engine.url));
  if (job.engine.kind === 'openai') {
    throw new ValidationError('engine kind "openai" (vLLM, SGLang) is attached by URL: give engine.url (--engine_url)', 'engine.url');
  }
  return launchEngine(a);
}

async function launchEngine(a: StartEngineArgs): Promise<EngineHandle> {
  const { job, kv, agent } = a;
  const isSim = job.engine.kind === 'sim';
  await mkdir(a.runDir, { recursive: true });

  const maxNumTokens = numOption(job, 'max_num_tokens');
  const config = trtllmConfig(kv, {
    // Drained every poll; sized so a whole run fits even if polling stalls.
    perfMetricsMaxRequests: numOption(job, 'perf_metrics_max_requests') ?? Math.max(1024, a.totalRequests * 2),
    // Events are kvbench's fallback for builds without kvCacheIterationStats; the simulator has them
    // unless told to answer like an older build, so it keeps no events (they list every token).
    eventBufferMaxSize: numOption(job, 'event_buffer_max_size') ?? (isSim && !simLegacy(a) ? 0 : 200_000),
    // Long prompts (32K–128K) exceed trtllm-serve's default max_num_tokens (8192).
    enableChunkedPrefill: chunkedPrefillFor(job),
  });
  const configYaml = trtllmConfigYaml(config);
  const configPath = join(a.runDir, 'engine-config.yaml');
  await writeFile(configPath, configYaml);

  // The simulator announces its port (--port 0); trtllm-serve gets a free one.
  const port = isSim ? 0 : await freePort();
  const common = [
    job.model,
    '--config', configPath,
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
    const legacy = simLegacy(a);
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

async function attachEngine(a: StartEngineArgs, url: URL): Promise<EngineHandle> {
  const base = new URL(url.href.replace(/\/+$/, ''));
  const timeoutMs = a.agent.engineStartupTimeoutMs ?? 30_000;
  await waitHealthy(null, () => base.href, timeoutMs, a.signal, a.job.engine.kind === 'openai');
  const version = await readVersion(base);
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
