/**
 * Which TensorRT-LLM is installed, and what that build accepts and reports. Every
 * capability is tied to a landmark of ../shared/ENGINES.md ("Version landmarks"):
 * a key a build lacks fails its `extra="forbid"` config validation and the server
 * does not start, so the config file is built from these, never from a fixed list.
 */
import { spawn } from 'node:child_process';

export type TrtllmGeneration = '1.0' | '1.1' | '1.2' | '1.3-early' | '1.3-collector' | '1.3-tee' | '1.3-late' | 'main' | 'unknown' | 'sim';

export interface TrtllmCapabilities {
  /** The config-file flag: `--config` is an alias added by PR #9104 (1.2); `--extra_llm_api_options` works on every 1.x. */
  configFlag: '--config' | '--extra_llm_api_options';
  /** kv_cache_config.tokens_per_block (PR #5911, about 2025-09-08). */
  tokensPerBlockKey: boolean;
  /** perf_metrics_max_requests and GET /perf_metrics keeping per-request entries (PR #6985, 1.1) until PR #16668 removed it (about 1.3.0rc24). */
  perfMetricsEndpoint: boolean;
  /** Per-request metrics by X-TRTLLM-return-metrics: 1 and `event: trtllm.perf_metrics` after [DONE] (PR #16668, about 1.3.0rc24). */
  perfMetricsByStream: boolean;
  /**
   * return_perf_metrics + enable_iter_perf_stats start `_iteration_stats_collector_loop`, which drains the queue
   * GET /metrics reads (PR #11243, about 1.3.0rc5) — until PR #13405 served /metrics from a tee buffer (about 1.3.0rc12).
   */
  collectorDrainsIterStats: boolean;
  /** Per-iteration KV deltas under the KV-cache-manager V2 keys (use_kv_cache_manager_v2 "auto" on 2026 main). */
  v2IterationStatsKeys: boolean;
  /**
   * `kvCacheIterationStats` in /metrics: per-iteration reuse, misses, offload and onboard blocks and bytes
   * (PR #12413, opened 2026-03-20, about 1.3.0rc8). Before it no build counts offloads or onboards in its statistics.
   */
  iterationKvDeltas: boolean;
  /**
   * `event_buffer_max_size > 0` is safe with a host cache: before PR #11576 (fix of issue #4666, merged 2026-02-24)
   * the offload/onboard `updated` events carry no priority diff, KVCacheEventSerializer fails on them, the
   * event-dispatch thread dies and later requests fail. Not pinned to an rc: kvbench counts it only from
   * 1.3.0rc8 on (where kvCacheIterationStats make the events unnecessary anyway).
   */
  kvEventsSafeWithHostCache: boolean;
  /** /kv_cache_events waits up to 2 s on an empty queue (`get_kv_cache_events_async(2)`); 1.3 answers at once (`(0)`). */
  kvEventsWait: boolean;
}

export interface TrtllmBuild {
  /** As the build reports it ("1.2.0rc3"); null when it could not be learned. */
  version: string | null;
  /** Where the version came from. */
  versionSource: string;
  generation: TrtllmGeneration;
  /** Flags `trtllm-serve serve --help` listed; null when it could not be run. */
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

/** a >= b, a release sorting after each of its rcs. */
function atLeast(a: Semver, b: string): boolean {
  const s = parseTrtllmVersion(b)!;
  const key = (x: Semver) => [x.major, x.minor, x.patch, x.rc ?? Number.POSITIVE_INFINITY];
  const ka = key(a);
  const kb = key(s);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! > kb[i]!;
  return true;
}

/** The behaviour generation of a version string (ENGINES.md landmarks): a label for run_meta and logs. */
export function generationOf(version: string | null): TrtllmGeneration {
  const s = version ? parseTrtllmVersion(version) : null;
  if (!s || s.major < 1) return 'unknown';
  if (s.major > 1 || s.minor > 3) return 'main';
  if (s.minor === 0) return '1.0';
  if (s.minor === 1) return '1.1';
  if (s.minor === 2) return '1.2';
  if (!atLeast(s, '1.3.0rc5')) return '1.3-early';
  if (!atLeast(s, '1.3.0rc12')) return '1.3-collector';
  if (!atLeast(s, '1.3.0rc24')) return '1.3-tee';
  return '1.3-late';
}

/** A version standing for each generation (capabilitiesOf a generation label). */
const REPRESENTATIVE: Record<Exclude<TrtllmGeneration, 'unknown' | 'sim'>, string> = {
  '1.0': '1.0.0', '1.1': '1.1.0', '1.2': '1.2.0', '1.3-early': '1.3.0rc4', '1.3-collector': '1.3.0rc8', '1.3-tee': '1.3.0rc12', '1.3-late': '1.3.0rc24', main: '1.4.0rc0',
};

/**
 * What a build accepts and offers, from its version (ENGINES.md landmarks, each PR cited on the field);
 * `flags` (from `trtllm-serve serve --help`) override the config-flag guess. Unknown builds get what every
 * 1.x accepts and nothing that could break the engine.
 */
export function capabilitiesOfVersion(version: string | null, flags: readonly string[] | null): TrtllmCapabilities {
  const s = version ? parseTrtllmVersion(version) : null;
  const known = !!s && s.major >= 1;
  const at = (v: string) => known && atLeast(s!, v);
  const caps: TrtllmCapabilities = {
    configFlag: at('1.2.0rc0') ? '--config' : '--extra_llm_api_options',
    tokensPerBlockKey: at('1.1.0rc0'),
    perfMetricsEndpoint: at('1.1.0rc0') && !at('1.3.0rc24'),
    perfMetricsByStream: at('1.3.0rc24'),
    collectorDrainsIterStats: at('1.3.0rc5') && !at('1.3.0rc12'),
    v2IterationStatsKeys: at('1.4.0rc0'),
    iterationKvDeltas: at('1.3.0rc8'),
    kvEventsSafeWithHostCache: at('1.3.0rc8'),
    kvEventsWait: !at('1.3.0rc0'),
  };
  // What --help lists wins over the version guess (a build between landmarks): the current name where it
  // exists, else the older one every 1.x accepts.
  if (flags) {
    if (flags.includes('--config')) caps.configFlag = '--config';
    else if (flags.includes('--extra_llm_api_options')) caps.configFlag = '--extra_llm_api_options';
  }
  return caps;
}

/** Capabilities of a generation label (its representative version); the simulator accepts every key. */
export function capabilitiesOf(gen: TrtllmGeneration, flags: readonly string[] | null): TrtllmCapabilities {
  if (gen === 'sim') {
    return { configFlag: '--config', tokensPerBlockKey: true, perfMetricsEndpoint: true, perfMetricsByStream: false, collectorDrainsIterStats: false, v2IterationStatsKeys: false, iterationKvDeltas: true, kvEventsSafeWithHostCache: true, kvEventsWait: false };
  }
  return capabilitiesOfVersion(gen === 'unknown' ? null : REPRESENTATIVE[gen], flags);
}

export function describeBuild(version: string | null, versionSource: string, flags: string[] | null): TrtllmBuild {
  const generation = generationOf(version);
  return { version, versionSource, generation, flags, capabilities: capabilitiesOfVersion(generation === 'unknown' ? null : version, flags) };
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

/**
 * The banner importing tensorrt_llm prints (tensorrt_llm/__init__.py): `[TensorRT-LLM] TensorRT-LLM version: X`
 * on 1.0.x and 1.1.0rcN, `[TensorRT-LLM] TensorRT LLM version: X` from 1.1.0 on; newer builds may add a suffix.
 */
export const VERSION_BANNER = /TensorRT[- ]LLM version:\s*([0-9][^\s,()]*)/;

/** The version in a banner line, or null. */
export function versionFromBanner(text: string): string | null {
  const v = VERSION_BANNER.exec(text)?.[1] ?? null;
  return v && parseTrtllmVersion(v) ? v : null;
}

/** The program's path on PATH (as spawn would find it), or null. */
async function onPath(cmd: string, env: NodeJS.ProcessEnv | undefined): Promise<string | null> {
  if (cmd.includes('/')) return cmd;
  const { access, constants } = await import('node:fs/promises');
  for (const dir of (env?.PATH ?? process.env.PATH ?? '').split(':').filter(Boolean)) {
    const p = `${dir}/${cmd}`;
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

/** The interpreter of a `#!…python…` script (pip's console-script wrappers), or null. */
async function pythonOf(script: string): Promise<string | null> {
  const { readFile } = await import('node:fs/promises');
  try {
    const head = (await readFile(script, 'utf8')).slice(0, 300).split('\n')[0] ?? '';
    const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(head);
    if (!m) return null;
    const prog = m[1]!.endsWith('/env') ? m[2] ?? '' : m[1]!;
    return /python[0-9.]*$/.test(prog) ? prog : null;
  } catch {
    return null;
  }
}

/**
 * Learn the installed build before launching it (ENGINES.md: "Ways to learn the installed version before
 * launching"). `trtllm-serve` is a click DefaultGroup (tensorrt_llm/commands/serve.py): `trtllm-serve --help`
 * lists its commands, `trtllm-serve serve --help` serve's flags — and any call imports tensorrt_llm, which
 * prints the version banner. Failing that, the version from TensorRT-LLM's own interpreter (the shebang of
 * trtllm-serve), never from whatever `python3` comes first on PATH unless that one imports tensorrt_llm.
 * Importing TensorRT-LLM takes tens of seconds, hence the long limit.
 */
export async function detectTrtllm(trtllmServe: string, env: NodeJS.ProcessEnv | undefined, timeoutMs = 180_000): Promise<TrtllmBuild> {
  const help = await run(trtllmServe, ['serve', '--help'], env, timeoutMs);
  const flags = help.code === 0 ? [...new Set(help.out.match(/--[a-z][a-z0-9_-]*/g) ?? [])] : null;
  const banner = versionFromBanner(help.out);
  if (banner) return describeBuild(banner, `${trtllmServe} serve --help (version banner)`, flags);
  const path = await onPath(trtllmServe, env);
  const interpreters = [...new Set([...(path ? [await pythonOf(path)] : []), 'python3'].filter((x): x is string => !!x))];
  const tried: string[] = [];
  for (const py of interpreters) {
    const r = await run(py, ['-c', 'import tensorrt_llm; print(tensorrt_llm.__version__)'], env, timeoutMs);
    const line = r.code === 0 ? r.out.trim().split('\n').pop()!.trim() : '';
    if (line && parseTrtllmVersion(line)) return describeBuild(line, `${py} -c "import tensorrt_llm; print(tensorrt_llm.__version__)"`, flags);
    tried.push(`${py} could not import tensorrt_llm`);
  }
  const why = help.code === 0 ? 'printed no version banner' : `failed: ${help.out.trim().split('\n').pop()?.slice(0, 200) ?? ''}`;
  return describeBuild(null, `unknown (${trtllmServe} serve --help ${why}; ${tried.join('; ')})`, flags);
}
