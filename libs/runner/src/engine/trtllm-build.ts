/**
 * Which TensorRT-LLM is installed, and what that build accepts and reports. Every
 * capability is tied to a landmark of ../shared/ENGINES.md ("Version landmarks"):
 * a key a build lacks fails its `extra="forbid"` config validation and the server
 * does not start, so the config file is built from these, never from a fixed list.
 */
import { spawn } from 'node:child_process';

export type TrtllmGeneration = '1.0' | '1.1' | '1.2' | '1.3-collector' | '1.3-tee' | 'main' | 'unknown' | 'sim';

export interface TrtllmCapabilities {
  /** The config-file flag: `--config` is an alias added by PR #9104 (1.2); `--extra_llm_api_options` works on every 1.x. */
  configFlag: '--config' | '--extra_llm_api_options';
  /** kv_cache_config.tokens_per_block (PR #5911, about 2025-09-08). */
  tokensPerBlockKey: boolean;
  /** perf_metrics_max_requests and GET /perf_metrics keeping per-request entries (PR #6985; deprecated on newest main). */
  perfMetricsEndpoint: boolean;
  /** Per-request metrics by X-TRTLLM-return-metrics: 1 and `event: trtllm.perf_metrics` after [DONE] (newest main). */
  perfMetricsByStream: boolean;
  /** return_perf_metrics starts a collector that drains /metrics' queue (builds from about Dec 2025 until PR #13405, 1.3.0rc12). */
  collectorDrainsIterStats: boolean;
  /** Per-iteration KV deltas under the KV-cache-manager V2 keys (use_kv_cache_manager_v2 "auto" on 2026 main). */
  v2IterationStatsKeys: boolean;
  /**
   * Iteration stats carry per-iteration KV deltas (kvCacheIterationStats or the V2 keys), so the KV event
   * buffer is not needed. Not pinned to a release by ENGINES.md: assumed from 1.1 on; where unknown the
   * events stay on (they are kvbench's only source of offload counts without iteration deltas).
   */
  iterationKvDeltas: boolean;
}

export interface TrtllmBuild {
  /** As the build reports it ("1.2.0rc3"); null when it could not be learned. */
  version: string | null;
  /** Where the version came from. */
  versionSource: string;
  generation: TrtllmGeneration;
  /** Flags `trtllm-serve --help` listed; null when --help could not be run. */
  flags: string[] | null;
  capabilities: TrtllmCapabilities;
  /** GET /version after start, where the build was unknown before it (reading follows it; the config could not). */
  versionAfterStart?: string;
}

interface Semver {
  major: number;
  minor: number;
  patch: number;
  /** rcN; null for a release (sorts after every rc). */
  rc: number | null;
  dev: boolean;
}

export function parseTrtllmVersion(v: string): Semver | null {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:\.?rc(\d+))?(\.dev|\.post|\+|$)?/.exec(v.trim());
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), rc: m[4] === undefined ? null : Number(m[4]), dev: m[5] === '.dev' };
}

/** The behaviour generation of a version string (ENGINES.md landmarks). */
export function generationOf(version: string | null): TrtllmGeneration {
  const s = version ? parseTrtllmVersion(version) : null;
  if (!s || s.major !== 1) return s && s.major > 1 ? 'main' : 'unknown';
  if (s.minor === 0) return '1.0';
  if (s.minor === 1) return '1.1';
  if (s.minor === 2) return '1.2';
  if (s.minor === 3) {
    // PR #13405 (2026-04-24, about 1.3.0rc12): /metrics from a tee buffer.
    if (s.rc !== null && s.rc < 12) return '1.3-collector';
    return '1.3-tee';
  }
  return 'main'; // 1.4 and later: today's main (per-request metrics no longer retained, V2 KV manager "auto")
}

/** Capabilities of a generation; `flags` (from --help) override the config-flag guess. */
export function capabilitiesOf(gen: TrtllmGeneration, flags: readonly string[] | null): TrtllmCapabilities {
  const known = gen !== 'unknown';
  const after = (g: TrtllmGeneration[]) => g.includes(gen);
  const caps: TrtllmCapabilities = {
    configFlag: after(['1.2', '1.3-collector', '1.3-tee', 'main', 'sim']) ? '--config' : '--extra_llm_api_options',
    tokensPerBlockKey: known && gen !== '1.0',
    perfMetricsEndpoint: after(['1.1', '1.2', '1.3-collector', '1.3-tee', 'sim']),
    perfMetricsByStream: gen === 'main',
    collectorDrainsIterStats: after(['1.2', '1.3-collector']),
    v2IterationStatsKeys: gen === 'main',
    iterationKvDeltas: known && gen !== '1.0',
  };
  // What --help lists wins over the version guess (a build between landmarks): the current name where it
  // exists, else the older one every 1.x accepts.
  if (flags) {
    if (flags.includes('--config')) caps.configFlag = '--config';
    else if (flags.includes('--extra_llm_api_options')) caps.configFlag = '--extra_llm_api_options';
  }
  return caps;
}

export function describeBuild(version: string | null, versionSource: string, flags: string[] | null): TrtllmBuild {
  const generation = generationOf(version);
  return { version, versionSource, generation, flags, capabilities: capabilitiesOf(generation, flags) };
}

/** The simulator accepts every key kvbench writes and serves /perf_metrics (services/engine-sim). */
export function simulatorBuild(): TrtllmBuild {
  return { version: null, versionSource: 'the simulator (engine kind "sim")', generation: 'sim', flags: null, capabilities: capabilitiesOf('sim', null) };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv | undefined, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    let out = '';
    let child;
    try {
      child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ code: null, out: (err as Error).message });
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const take = (d: Buffer) => {
      if (out.length < 200_000) out += d.toString('utf8');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, out: err.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const VERSION_BANNER = /TensorRT-LLM version:\s*([0-9][^\s,]*)/;

/**
 * Learn the installed build before launching it (ENGINES.md: "Ways to learn the installed version
 * before launching"): `trtllm-serve --help` lists the flags, and importing tensorrt_llm prints its
 * version banner; failing that, `python3 -c "import tensorrt_llm; print(tensorrt_llm.__version__)"`.
 * Importing TensorRT-LLM takes tens of seconds, hence the long limit.
 */
export async function detectTrtllm(trtllmServe: string, env: NodeJS.ProcessEnv | undefined, timeoutMs = 180_000): Promise<TrtllmBuild> {
  const help = await run(trtllmServe, ['--help'], env, timeoutMs);
  const flags = help.code === 0 ? [...new Set(help.out.match(/--[a-z][a-z0-9_-]*/g) ?? [])] : null;
  const banner = VERSION_BANNER.exec(help.out)?.[1];
  if (banner) return describeBuild(banner, `${trtllmServe} --help (version banner)`, flags);
  const py = await run('python3', ['-c', 'import tensorrt_llm; print(tensorrt_llm.__version__)'], env, timeoutMs);
  const line = py.code === 0 ? py.out.trim().split('\n').pop()!.trim() : '';
  if (line && parseTrtllmVersion(line)) return describeBuild(line, 'python3 -c "import tensorrt_llm; print(tensorrt_llm.__version__)"', flags);
  return describeBuild(null, `unknown (${trtllmServe} --help ${help.code === 0 ? 'gave no version' : `failed: ${help.out.trim().split('\n').pop()?.slice(0, 200) ?? ''}`}; python3 could not import tensorrt_llm)`, flags);
}
