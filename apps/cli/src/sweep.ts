/**
 * Sweeps: a series of runs sharing a sweep id, every point running the same workload document on
 * every system (so the runs pair), in-process or through the services. The capacity sweep walks
 * the working set across the GPU pool and the host cache; the offload sweep measures a replayed
 * prompt's TTFT with its KV reloaded from host against recomputed, and keeps a replay only when
 * the engine's counters confirm where its KV came from.
 */
import {
  consoleLogger, hostCacheBytes, Job, newRunId, parseOrThrow, requiredGpuKvTokens, resolveKvConfig, ValidationError,
  type AnyWorkload, type KvConfig, type KvOverrides, type RunResult, type Sample, type ScenarioWorkload,
} from '@kvbench/common';
import { distribution } from '@kvbench/common';
import { runBenchmark } from '@kvbench/runner';
import { engineAgentOptions } from './engines.js';
import { generateDocqa, generateOffloadPoint, workloadId } from '@kvbench/workload';
import { KvbenchClient, type RunRequest } from './api-client.js';
import { watchRun } from './watch.js';
import { judgeReplay, type OffloadSide } from '@kvbench/report';

/** What every run of a sweep shares but the workload and the KV overrides. */
export interface SweepRunSpec {
  model: string;
  engine: { kind: 'sim' | 'trtllm' | 'openai'; url?: string; launch_command?: string[]; options: Record<string, string | number | boolean> };
  max_batch_size: number;
  max_seq_len: number;
  output_tokens: number;
  temperature: number;
  top_p: number;
  notes: string;
}

export interface SweepSystem {
  label: string;
  configModule: string;
  overrides: KvOverrides;
}

/** Runs one workload on one system: in-process (runBenchmark) or through workload-api and the aggregator. */
export type PointRunner = (system: SweepSystem, workload: AnyWorkload, overrides: KvOverrides) => Promise<RunResult>;

export function inProcessRunner(spec: SweepRunSpec, workDir?: string): PointRunner {
  const log = consoleLogger('warn', '');
  return async (system, workload, overrides) => {
    const job = parseOrThrow(
      Job,
      {
        schema: 'kvbench.job', version: 1, run_id: newRunId(), submitted_at: new Date().toISOString(), workload_id: workloadId(workload),
        system_label: system.label, config_module: system.configModule, overrides, ...spec,
      },
      'sweep run',
    );
    return runBenchmark({ job, workload, attempt: 1, log, emit: async () => {}, agent: { ...engineAgentOptions, ...(workDir ? { workDir } : {}), collectEnvironment: false } });
  };
}

export function servicesRunner(spec: SweepRunSpec, apiUrl: string, aggregatorUrl: string, token?: string): PointRunner {
  const client = new KvbenchClient(apiUrl, aggregatorUrl, token);
  return async (system, workload, overrides) => {
    const wl = await client.createWorkload({ document: workload });
    const run = { ...spec, workload_id: wl.id, system_label: system.label, config_module: system.configModule, overrides } as RunRequest;
    const { run_id } = await client.submitRun(run);
    const watched = await watchRun(aggregatorUrl, run_id, { label: system.label, summaryOut: null, ...(token ? { token } : {}) });
    if (watched.status !== 'completed' || !watched.run) throw new ValidationError(`run ${run_id} (${system.label}) failed: ${watched.error ?? 'unknown error'}`, 'run');
    return watched.run;
  };
}

const withSweep = (doc: ScenarioWorkload, id: string, point: string): ScenarioWorkload => ({ ...doc, sweep: { id, point } });

export function newSweepId(kind: string): string {
  return `sw-${kind}-${new Date().toISOString().replace(/[-:]/g, '').slice(0, 15)}-${Math.random().toString(36).slice(2, 6)}`;
}

// ---- capacity ----

/** A capacity point: `8192` tokens, `1.5G` (of the reference system's GPU pool), `2GH` (of its GPU pool + host cache). */
export function parseCapacityPoint(text: string, G: number, H: number): number {
  const m = /^(\d+(?:\.\d+)?)(G|GH)?$/.exec(text.trim());
  if (!m) throw new ValidationError(`--points: '${text}' is not N (tokens), xG or xGH`, 'points');
  const x = Number(m[1]);
  const tokens = m[2] === 'G' ? x * G : m[2] === 'GH' ? x * (G + H) : x;
  if (!(tokens > 0)) throw new ValidationError(`--points: '${text}' is no working set`, 'points');
  return Math.round(tokens);
}

export const DEFAULT_CAPACITY_POINTS = ['0.5G', '1G', '1.5G', '1GH', '1.5GH', '2GH'];

export interface CapacitySweepOptions {
  sweepId: string;
  systems: SweepSystem[];
  /** Whose G and H the ratio points refer to. */
  reference: SweepSystem;
  points: string[];
  kvBytesPerToken: number;
  documentTokens: number;
  questionTokens: number;
  questions: number;
  rounds: number;
  maxConcurrency: number;
  seed: number;
  /** Refuse a working set above this many tokens. */
  maxWorkingSetTokens: number;
  /** Tokens each request generates (the run's output_tokens): with the prompt, what the GPU pool must hold. */
  outputTokens: number;
}

/** Tiers of a system in tokens: G, the GPU pool; H, host cache bytes / KV bytes per token. */
export function tiers(kv: KvConfig, kvBytesPerToken: number): { G: number; H: number } {
  return { G: kv.gpu_kv_max_tokens, H: Math.floor(hostCacheBytes(kv) / kvBytesPerToken) };
}

export interface SystemFigures {
  run_id: string | null;
  /** Engine-counted share of prompt blocks reused, from any tier (log_metrics.cache_hit_rate). */
  hit_rate: number | null;
  /** The share reused from the GPU pool itself (reused − onboarded, of all lookups). */
  gpu_hit_rate: number | null;
  onboarded_blocks: number | null;
  /** TTFT p50 of the rounds after the first (the measured rounds), seconds. */
  ttft_p50_s: number | null;
  failed: number;
  null_reasons: Record<string, string>;
}

function runFigures(result: RunResult, measured: (s: Sample) => boolean): SystemFigures {
  const m = result.log_metrics;
  const reasons: Record<string, string> = {};
  const hit = m.cache_hit_rate;
  const reused = m.reused_blocks;
  const onboarded = m.onboarded_blocks ?? null;
  let gpuHit: number | null = null;
  if (hit === null) reasons.hit_rate = m.null_reasons['cache_hit_rate'] ?? 'engine reported no hit rate';
  if (hit !== null && reused !== null && onboarded !== null) gpuHit = reused > 0 ? (hit * (reused - onboarded)) / reused : 0;
  else reasons.gpu_hit_rate = m.null_reasons['onboarded_blocks'] ?? m.null_reasons['reused_blocks'] ?? 'needs the hit rate, reused and onboarded blocks';
  const ttft = distribution(result.samples.filter((s) => s.ok && s.ttft_s !== null && measured(s)).map((s) => s.ttft_s!));
  return {
    run_id: String((result.run_meta as Record<string, unknown>).run_id ?? '') || null,
    hit_rate: hit,
    gpu_hit_rate: gpuHit,
    onboarded_blocks: onboarded,
    ttft_p50_s: ttft.p50,
    failed: result.samples.filter((s) => !s.ok).length,
    null_reasons: reasons,
  };
}

export interface CapacityPointResult {
  point: string;
  working_set_tokens: number;
  documents: number;
  workload_id: string;
  /** The working set against each system's tiers: below G, between G and G + H, above G + H. */
  tier: Record<string, 'gpu' | 'gpu+host' | 'beyond'>;
  systems: Record<string, SystemFigures>;
}

export async function capacitySweep(o: CapacitySweepOptions, run: PointRunner, onRun?: (label: string, r: RunResult) => Promise<void>): Promise<CapacityPointResult[]> {
  const ref = tiers(resolveKvConfig(o.reference.configModule, o.reference.overrides), o.kvBytesPerToken);
  const points = o.points.map((p) => ({ label: p, tokens: parseCapacityPoint(p, ref.G, ref.H) }));
  for (const p of points) {
    if (p.tokens > o.maxWorkingSetTokens) throw new ValidationError(`--points: ${p.label} is a working set of ${p.tokens} tokens, above --max-working-set-tokens ${o.maxWorkingSetTokens}`, 'points');
  }
  // A request the GPU pool cannot hold is refused by the engine: say so before anything runs.
  const largest = o.documentTokens + o.questionTokens + o.outputTokens;
  for (const sys of o.systems) {
    const needed = requiredGpuKvTokens(resolveKvConfig(sys.configModule, sys.overrides), largest);
    if (needed !== null) {
      throw new ValidationError(
        `--${sys.label}_gpu_kv_max_tokens: ${sys.label}'s GPU pool cannot hold one request (${largest} tokens with output); give it at least ${needed}`,
        `${sys.label}_gpu_kv_max_tokens`,
      );
    }
  }
  const out: CapacityPointResult[] = [];
  for (const p of points) {
    const documents = Math.max(1, Math.round(p.tokens / o.documentTokens));
    const doc = withSweep(
      generateDocqa({ documents, document_tokens: o.documentTokens, question_tokens: o.questionTokens, questions: o.questions, rounds: o.rounds, order: 'tile', arrival: 'closed', max_concurrency: o.maxConcurrency, seed: o.seed }),
      o.sweepId,
      p.label,
    );
    const ws = documents * o.documentTokens;
    const result: CapacityPointResult = { point: p.label, working_set_tokens: ws, documents, workload_id: workloadId(doc), tier: {}, systems: {} };
    for (const sys of o.systems) {
      const t = tiers(resolveKvConfig(sys.configModule, sys.overrides), o.kvBytesPerToken);
      result.tier[sys.label] = ws <= t.G ? 'gpu' : ws <= t.G + t.H ? 'gpu+host' : 'beyond';
      const r = await run(sys, doc, sys.overrides);
      await onRun?.(sys.label, r);
      result.systems[sys.label] = runFigures(r, (s) => (s.scenario?.round ?? 1) > 1);
    }
    out.push(result);
  }
  return out;
}

// ---- offload versus recompute ----

export const DEFAULT_OFFLOAD_LENGTHS = [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072];

export interface OffloadSweepOptions {
  sweepId: string;
  systems: SweepSystem[];
  lengths: number[];
  /** Also run each length + this many tokens (a partial last block); 0: none. */
  unalignedOffset: number;
  /** Eviction traffic as a multiple of the largest GPU pool. */
  evictionFactor: number;
  outputTokens: number;
  maxSeqLen: number;
  seed: number;
  /** Replays per point and mode (each a run of its own); at least 1, default 3. */
  replays?: number;
}

export const DEFAULT_REPLAYS = 3;

/** A point's replay as judged from the engine's counters (shared with the report). */
export type ReplayFigure = OffloadSide;

export interface OffloadPointResult {
  point: string;
  prompt_tokens: number;
  workload_id: string;
  /** Every replay of each mode, in the order run; `offload`/`recompute` are the last of each. */
  systems: Record<string, { offload: ReplayFigure; recompute: ReplayFigure; offload_replays: ReplayFigure[]; recompute_replays: ReplayFigure[]; recompute_over_offload: number | null }>;
}

/**
 * Where the replay's KV came from, from the engine's counters over the run's window: the cold
 * request and the evictions reuse nothing (their prompts are distinct), so every reused and
 * onboarded block of the run is the replay's. Offload counts when all of the prompt's full blocks
 * were onboarded from host and none was a GPU hit; recompute when none was reused at all.
 */

export async function offloadSweep(o: OffloadSweepOptions, run: PointRunner, onRun?: (label: string, r: RunResult) => Promise<void>): Promise<OffloadPointResult[]> {
  const replays = o.replays ?? DEFAULT_REPLAYS;
  if (!Number.isInteger(replays) || replays < 1) throw new ValidationError(`--replays: at least 1, got ${replays}`, 'replays');
  const kvs = o.systems.map((s) => resolveKvConfig(s.configModule, s.overrides));
  const gMax = Math.max(...kvs.map((k) => k.gpu_kv_max_tokens));
  const gMin = Math.min(...kvs.map((k) => k.gpu_kv_max_tokens));
  const tpb = Math.max(...kvs.map((k) => k.tokens_per_block));
  const lengths = o.lengths.flatMap((l) => (o.unalignedOffset > 0 ? [l, l + o.unalignedOffset] : [l]));
  for (const l of lengths) {
    const fits = Math.min(gMin, o.maxSeqLen) - o.outputTokens;
    if (l > fits) throw new ValidationError(`--lengths: ${l} tokens with ${o.outputTokens} output do not fit the smallest GPU pool / max_seq_len (${fits + o.outputTokens})`, 'lengths');
  }
  // Eviction requests as large as the smallest pool takes, less a block of headroom.
  const evictionRequestTokens = Math.max(tpb, Math.min(gMin, o.maxSeqLen) - o.outputTokens - tpb);
  const evictionTokens = Math.ceil(gMax * o.evictionFactor);
  const out: OffloadPointResult[] = [];
  for (const l of lengths) {
    const doc = withSweep(generateOffloadPoint({ promptTokens: l, evictionTokens, evictionRequestTokens, seed: o.seed + l }), o.sweepId, String(l));
    const point: OffloadPointResult = { point: String(l), prompt_tokens: l, workload_id: workloadId(doc), systems: {} };
    for (let i = 0; i < o.systems.length; i++) {
      const sys = o.systems[i]!;
      const fullBlocks = Math.floor(l / kvs[i]!.tokens_per_block);
      // Each replay is a run of its own (a fresh engine: cold request, evictions, replay), so replays are independent.
      const offs: ReplayFigure[] = [];
      const recs: ReplayFigure[] = [];
      for (let k = 0; k < replays; k++) {
        const off = await run(sys, doc, sys.overrides);
        await onRun?.(sys.label, off);
        offs.push(judgeReplay(off, 'offload', fullBlocks));
        const rec = await run(sys, doc, { ...sys.overrides, host_cache_gb: 0 });
        await onRun?.(sys.label, rec);
        recs.push(judgeReplay(rec, 'recompute', fullBlocks));
      }
      const median = (xs: ReplayFigure[]) => distribution(xs.filter((x) => x.valid && x.ttft_s !== null).map((x) => x.ttft_s!)).p50;
      const mo = median(offs);
      const mr = median(recs);
      point.systems[sys.label] = {
        offload: offs.at(-1)!,
        recompute: recs.at(-1)!,
        offload_replays: offs,
        recompute_replays: recs,
        recompute_over_offload: mo && mr ? mr / mo : null,
      };
    }
    out.push(point);
  }
  return out;
}
