/**
 * Sweep reports: a sweep is a series of runs sharing a sweep id (run_meta.workload.sweep {id, point},
 * issue-14's `kvbench sweep`), each point one workload document run on every system.
 * - capacity (docqa working sets): TTFT p50/p90 of the measured rounds and the engine's hit rate
 *   against the working set, with each system's GPU pool G and G + H on the axis, and the paired
 *   TTFT p50 ratio per point;
 * - offload vs recompute: the replayed prompt's TTFT with its KV onboarded from host against
 *   recomputed (the run without host cache), by prompt length, beside the link's bound (the prompt's
 *   KV bytes / the host→GPU bandwidth), and the speedup. A replay counts only when the engine's
 *   counters say where its KV came from (every full block onboarded and no GPU hit; or nothing reused).
 */
import seedrandom from 'seedrandom';
import { percentile, type RunResult, type Sample } from '@kvbench/common';
import { pairedBootstrapRatios } from './bootstrap.js';
import { isRecord, runIdOf, runMeta, systemLabelOf } from './meta.js';
import { isMeasured, pairByRequestId } from './pairing.js';
import { kvPoolsOf } from './hit-rate.js';
import { scenarioOf } from './scenarios.js';

interface SweepRun {
  run: RunResult;
  label: string;
  id: string;
  point: string;
  kind: string | null;
}

function sweepOf(run: RunResult): SweepRun | null {
  const w = runMeta(run)['workload'];
  const sweep = isRecord(w) && isRecord(w['sweep']) ? w['sweep'] : null;
  if (!sweep || typeof sweep['id'] !== 'string' || typeof sweep['point'] !== 'string') return null;
  return { run, label: systemLabelOf(run) ?? '?', id: sweep['id'], point: sweep['point'], kind: isRecord(w) && typeof w['kind'] === 'string' ? w['kind'] : null };
}

/** Sweep ids among the runs, newest last (in the order runs were given). */
export function sweepIds(runs: readonly RunResult[]): string[] {
  return [...new Set(runs.map(sweepOf).filter((s): s is SweepRun => s !== null).map((s) => s.id))];
}

export interface CapacityPoint {
  point: string;
  working_set_tokens: number | null;
  working_set_gib: number | null;
  systems: Record<string, { run_id: string | null; n: number; ttft_p50_s: number | null; ttft_p90_s: number | null; hit_rate: number | null }>;
  /** TTFT p50 ratio to the baseline over the measured rounds' requests, paired (same document, same request ids). */
  vs_baseline: { system: string; paired: number; ratio: number | null; ci_low: number | null; ci_high: number | null }[];
}

/**
 * Whether a sweep's figures are the simulator's model or a measurement, and on which clock: a
 * sweep's text, JSON and page all say it (everything the simulator produces is labelled so).
 */
export interface SweepProvenance {
  /** 'all': every run the simulator's (a model); 'none': every run a real engine's; 'some': a mix. */
  simulated: 'all' | 'none' | 'some';
  /** The simulator runs' clock ('mixed' when they differ); null without simulator runs or when unrecorded. */
  clock: 'virtual' | 'real' | 'mixed' | null;
  /** What a reader must know before reading the figures; null for a sweep of real engines. */
  note: string | null;
}

export interface CapacitySweepReport {
  sweep_id: string;
  baseline: string;
  systems: string[];
  provenance: SweepProvenance;
  /** Each system's tiers in tokens (G = GPU pool, GH = GPU pool + host cache; null when unknown). */
  tiers: Record<string, { G: number | null; GH: number | null }>;
  points: CapacityPoint[];
}

export interface OffloadSide {
  run_id: string | null;
  ttft_s: number | null;
  valid: boolean;
  /** Why the replay does not count (the counters disagree with the mode), or null. */
  invalid_reason: string | null;
  onboarded_blocks: number | null;
  reused_blocks: number | null;
  /** The engine's part of the replay's TTFT (scheduled → first token, sample.breakdown.first_token_s); null when unknown. */
  engine_first_token_s?: number | null;
  /** run_meta.host_bound of the replay's run (the simulator's host was late enough to shape TTFT). */
  host_bound?: boolean | null;
}

/** A mode's replays at one point (each a run of its own: cold request, evictions, replay). */
export interface ReplayStats {
  /** Replays run. */
  n: number;
  /** Replays the counters confirm (the others are left out, reasons below). */
  valid: number;
  /** Median TTFT of the valid replays, seconds. */
  ttft_median_s: number | null;
  /** Percentile-bootstrap interval of that median (seeded); null below 2 valid replays. */
  ci_low_s: number | null;
  ci_high_s: number | null;
  /** Median of the engine's own first-token time over the valid replays: TTFT without the host's and the transport's share. */
  engine_first_token_median_s: number | null;
  invalid_reasons: string[];
}

export interface OffloadPoint {
  prompt_tokens: number;
  /** Onboard TTFT median of each system over the baseline's (an independent bootstrap of the two medians' ratio). */
  vs_baseline: { system: string; baseline: string; ratio: number | null; ci_low: number | null; ci_high: number | null }[];
  systems: Record<
    string,
    {
      /** The latest replay of each mode (as before replicates), and every replay's summary. */
      offload: OffloadSide | null;
      recompute: OffloadSide | null;
      offload_replays: ReplayStats;
      recompute_replays: ReplayStats;
      /**
       * Why this point cannot be taken at face value: fewer valid replays than run (the counters do
       * not confirm the tier), or more time beyond its link bound than another system needed beyond
       * its own (the shipped profiles share compute, so that time is not the link's).
       */
      flags: string[];
      /** The prompt's full blocks × block bytes. */
      kv_bytes: number | null;
      bandwidth_gbps: number | null;
      bandwidth_source: string | null;
      /**
       * The least time the link needs for the replay's copies: kv_bytes / bandwidth, or on an engine
       * that offloads on eviction the same KV both ways at once (replayLinkBound); bandwidth_source says which.
       */
      link_bound_s: number | null;
      /** recompute TTFT / offload TTFT: medians of the valid replays. */
      speedup: number | null;
      null_reasons: Record<string, string>;
    }
  >;
}

export interface OffloadSweepReport {
  sweep_id: string;
  baseline: string;
  systems: string[];
  provenance: SweepProvenance;
  points: OffloadPoint[];
}

export interface SweepReport {
  capacity: CapacitySweepReport | null;
  offload: OffloadSweepReport | null;
}

export function sweepProvenance(runs: readonly RunResult[]): SweepProvenance {
  const sim = runs.filter((r) => runMeta(r)['simulated'] === true);
  const simulated = sim.length === 0 ? 'none' : sim.length === runs.length ? 'all' : 'some';
  const clocks = new Set(sim.map((r) => runMeta(r)['clock']).filter((c): c is 'virtual' | 'real' => c === 'virtual' || c === 'real'));
  const clock = clocks.size === 0 ? null : clocks.size > 1 ? 'mixed' : [...clocks][0]!;
  const model = "SIMULATED: the kvbench engine simulator's model of these systems, not a measurement on them.";
  const virtual =
    ' On the virtual clock a replay is the same model run again (same seed, nothing sleeps), so replays agree exactly and an interval is zero-width:' +
    ' it shows that the model gave one answer, not how hardware would vary.';
  const note =
    simulated === 'none'
      ? null
      : simulated === 'some'
        ? `MIXED: ${sim.length} of ${runs.length} runs are the simulator's model, the rest measured; a ratio between them compares a model with a measurement.`
        : model + (clock === 'virtual' ? virtual : '');
  return { simulated, clock, note };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function tiersOf(run: RunResult): { G: number | null; GH: number | null } {
  const p = kvPoolsOf(run);
  if (!p) return { G: null, GH: null };
  return { G: p.gpu_blocks * p.tokens_per_block, GH: p.host_blocks === null ? null : (p.gpu_blocks + p.host_blocks) * p.tokens_per_block };
}

export function blockBytes(run: RunResult): number | null {
  const pools = runMeta(run)['kv_pools'];
  return isRecord(pools) ? num(pools['block_bytes']) : null;
}

/** Working set of a docqa point: documents × document tokens, from the generator's parameters. */
function workingSet(run: RunResult): number | null {
  const w = runMeta(run)['workload'];
  const params = isRecord(w) && isRecord(w['params']) ? w['params'] : null;
  const docs = num(params?.['documents']);
  const len = num(params?.['document_tokens']);
  return docs !== null && len !== null ? docs * len : null;
}

const measuredRound = (s: Sample) => ((scenarioOf(s) as { round?: number } | null)?.round ?? 1) > 1;

export function sweepReport(runs: readonly RunResult[], opts: { sweepId?: string; baseline?: string; resamples?: number; confidence?: number; seed?: number | string } = {}): SweepReport {
  const all = runs.map(sweepOf).filter((s): s is SweepRun => s !== null);
  const id = opts.sweepId ?? all.at(-1)?.id;
  const mine = all.filter((s) => s.id === id);
  const capacity = mine.filter((s) => s.kind === 'docqa');
  const offload = mine.filter((s) => s.kind === 'offload');
  return {
    capacity: capacity.length && id ? capacityReport(id, capacity, opts) : null,
    offload: offload.length && id ? offloadReport(id, offload, opts) : null,
  };
}

function capacityReport(id: string, runs: SweepRun[], opts: { baseline?: string; resamples?: number; confidence?: number; seed?: number | string }): CapacitySweepReport {
  const systems = [...new Set(runs.map((r) => r.label))];
  const baseline = opts.baseline && systems.includes(opts.baseline) ? opts.baseline : systems.includes('pcie') ? 'pcie' : systems[0]!;
  const tiers: CapacitySweepReport['tiers'] = {};
  for (const sys of systems) tiers[sys] = tiersOf(runs.find((r) => r.label === sys)!.run);
  const byPoint = new Map<string, SweepRun[]>();
  for (const r of runs) byPoint.set(r.point, [...(byPoint.get(r.point) ?? []), r]);
  const points: CapacityPoint[] = [];
  for (const [point, rs] of byPoint) {
    // The latest run of each system at this point (the runs come in order).
    const latest = new Map(rs.map((r) => [r.label, r]));
    const ws = workingSet(rs[0]!.run);
    const bb = blockBytes(rs[0]!.run);
    const tpb = kvPoolsOf(rs[0]!.run)?.tokens_per_block ?? null;
    const p: CapacityPoint = { point, working_set_tokens: ws, working_set_gib: ws !== null && bb !== null && tpb ? (ws * (bb / tpb)) / 2 ** 30 : null, systems: {}, vs_baseline: [] };
    for (const [label, r] of latest) {
      const t = r.run.samples.filter((s) => isMeasured(s) && measuredRound(s)).map((s) => s.ttft_s!);
      p.systems[label] = { run_id: runIdOf(r.run), n: t.length, ttft_p50_s: percentile(t, 50), ttft_p90_s: percentile(t, 90), hit_rate: num(r.run.log_metrics?.cache_hit_rate) };
    }
    const base = latest.get(baseline);
    for (const [label, r] of latest) {
      if (!base || label === baseline) continue;
      const pairs = pairByRequestId(base.run.samples.filter(measuredRound), r.run.samples.filter(measuredRound));
      const rng = seedrandom.alea(`${opts.seed ?? 1}|sweep|${id}|${point}|${baseline}|${label}`);
      const [iv] = pairedBootstrapRatios(pairs.baseline.ttft_s, pairs.other.ttft_s, { percentiles: [50], resamples: opts.resamples ?? 2000, confidence: opts.confidence ?? 0.95, rng });
      p.vs_baseline.push({ system: label, paired: pairs.request_ids.length, ratio: iv!.estimate, ci_low: iv!.low, ci_high: iv!.high });
    }
    points.push(p);
  }
  points.sort((a, b) => (a.working_set_tokens ?? 0) - (b.working_set_tokens ?? 0));
  return { sweep_id: id, baseline, systems, provenance: sweepProvenance(runs.map((r) => r.run)), tiers, points };
}

/**
 * The replay's TTFT and whether the run's counters say its KV came from where the mode needs
 * (offload: every full block onboarded and none a GPU hit; recompute: none reused). One judgement
 * for the sweep that runs the points and for the report that reads them back.
 */
export function judgeReplay(run: RunResult, mode: 'offload' | 'recompute', fullBlocks: number): OffloadSide {
  const m = run.log_metrics;
  const replay = run.samples.find((s) => (scenarioOf(s) as { step?: string } | null)?.step === 'replay');
  const reused = num(m?.reused_blocks);
  const onboarded = num(m?.onboarded_blocks);
  const failed = run.samples.filter((s) => !s.ok);
  let why: string | null = null;
  if (!replay || !replay.ok) why = `replay failed: ${replay?.error ?? 'not in the run'}`;
  else if (failed.length) why = `${failed.length} request(s) of the point failed (first: ${failed[0]!.request_id}: ${failed[0]!.error})`;
  else if (reused === null) why = `engine reported no reused blocks: ${m?.null_reasons?.['reused_blocks'] ?? 'no reason given'}`;
  else if (mode === 'recompute') {
    if (reused !== 0) why = `recompute run reused ${reused} block(s): the replay was not recomputed`;
  } else if (onboarded === null) why = `engine reported no onboarded blocks: ${m?.null_reasons?.['onboarded_blocks'] ?? 'no reason given'}`;
  else if (onboarded !== fullBlocks) why = `onboarded ${onboarded} of the prompt's ${fullBlocks} full blocks (the rest was not on the host)`;
  else if (reused !== onboarded) why = `${reused - onboarded} block(s) were GPU hits: the eviction traffic did not push the prompt out`;
  return {
    run_id: runIdOf(run),
    ttft_s: replay?.ok ? replay.ttft_s : null,
    engine_first_token_s: replay?.ok ? num(replay.breakdown?.first_token_s) : null,
    host_bound: typeof runMeta(run)['host_bound'] === 'boolean' ? (runMeta(run)['host_bound'] as boolean) : null,
    valid: why === null,
    invalid_reason: why,
    onboarded_blocks: onboarded,
    reused_blocks: reused,
  };
}

/**
 * The host→GPU bandwidth for the link bound: measured by the engine over the offload run, else the
 * run's link check at this block size, else the simulator profile's figure for one block copy.
 */
export function onboardBandwidth(run: RunResult, blockBytes: number | null): { gbps: number; source: string } | null {
  const measured = num(run.log_metrics?.observed_onboard_bandwidth_gbps);
  if (measured !== null && measured > 0) return { gbps: measured, source: 'measured: log_metrics.observed_onboard_bandwidth_gbps over the offload run' };
  const lc = runMeta(run)['link_check'];
  const blocks = isRecord(lc) && Array.isArray(lc['blocks']) ? (lc['blocks'] as unknown[]) : [];
  for (const b of blocks) {
    if (isRecord(b) && blockBytes !== null && b['block_bytes'] === blockBytes && num(b['h2d_GBps']) !== null) return { gbps: num(b['h2d_GBps'])!, source: `link check: one-stream block copies of ${blockBytes} bytes (run_meta.link_check)` };
  }
  const pools = runMeta(run)['kv_pools'];
  const prof = isRecord(pools) ? num(pools['h2d_block_gbps']) : null;
  if (prof !== null && prof > 0) return { gbps: prof, source: 'profiled: the simulator profile\'s host→GPU bandwidth for one block (kv_pools.h2d_block_gbps)' };
  return null;
}

/** The GPU→host bandwidth of an eviction's offload, found as onboardBandwidth finds host→GPU. */
function offloadBandwidth(run: RunResult, blockBytes: number | null): { gbps: number; source: string } | null {
  const measured = num(run.log_metrics?.observed_offload_bandwidth_gbps);
  if (measured !== null && measured > 0) return { gbps: measured, source: 'measured' };
  const lc = runMeta(run)['link_check'];
  const blocks = isRecord(lc) && Array.isArray(lc['blocks']) ? (lc['blocks'] as unknown[]) : [];
  for (const b of blocks) if (isRecord(b) && blockBytes !== null && b['block_bytes'] === blockBytes && num(b['d2h_GBps']) !== null) return { gbps: num(b['d2h_GBps'])!, source: 'link check' };
  const pools = runMeta(run)['kv_pools'];
  const prof = isRecord(pools) ? num(pools['d2h_block_gbps']) : null;
  return prof !== null && prof > 0 ? { gbps: prof, source: 'profiled' } : null;
}

/**
 * Engines that copy a block to the host when they evict it from the GPU: TensorRT-LLM with a host
 * cache (docs "KV Cache System", features/kvcache.html: offloading; docs/ENGINES.md) and the simulator
 * (services/engine-sim/src/blocks.ts). The TensorRT-LLM double (trtllm-serve-double.mjs) spills the same way.
 */
const OFFLOAD_ON_EVICT = new Set(['trtllm', 'sim']);

/**
 * The least time the link needs for an onboard replay. The sweep's eviction traffic leaves the GPU
 * pool full of blocks the host does not hold yet, so on an engine that offloads on eviction every
 * block the replay onboards evicts one that is copied to the host in the same iteration: the link
 * moves the prompt's KV both ways at once, each direction at its own rate and both together within
 * the link's bidirectional cap where one is known (PCIe Gen5 x16: 88 GB/s for both, against 54 each
 * way; the simulator's link.ts overlaps them so). Counting the onboard alone put the PCIe replays
 * 17-80 ms "beyond their bound" at 32K-128K under the virtual clock, time that was the link's own, and
 * flagged them. vLLM's connector stores KV when a request ends, so its replay forces no offload.
 */
function replayLinkBound(run: RunResult, kvBytes: number, h2d: { gbps: number; source: string }, blockBytes: number | null): { bound: number; source: string } {
  const up = kvBytes / (h2d.gbps * 1e9);
  const engine = runMeta(run)['engine'];
  const kind = isRecord(engine) && typeof engine['kind'] === 'string' ? engine['kind'] : null;
  if (kind === null || !OFFLOAD_ON_EVICT.has(kind)) return { bound: up, source: `${h2d.source}; the onboard alone (this engine forces no offload when it reloads)` };
  const d2h = offloadBandwidth(run, blockBytes);
  if (!d2h) return { bound: up, source: `${h2d.source}; the onboard alone (no GPU→host bandwidth known for the offloads it forces)` };
  const pools = runMeta(run)['kv_pools'];
  const both = isRecord(pools) ? num(pools['bidirectional_gbps']) : null;
  const down = kvBytes / (d2h.gbps * 1e9);
  const capped = both !== null && both > 0 ? (2 * kvBytes) / (both * 1e9) : 0;
  return {
    bound: Math.max(up, down, capped),
    source: `${h2d.source}; with the offloads the reload forces (the same KV GPU→host at ${d2h.gbps} GB/s, ${d2h.source}${both !== null ? `; both directions within ${both} GB/s together, kv_pools.bidirectional_gbps` : '; no cap on both directions together known'})`,
  };
}

/** Time beyond the link bound above which a point is flagged: 1.5× another system's, and 5 ms more. */
export const OVER_LINK_FACTOR = 1.5;
export const OVER_LINK_SLACK_S = 0.005;
/** Above this share of a replay's TTFT outside the engine (client, transport), the point shows the host more than the link. */
export const HOST_SHARE_FLAG = 0.5;

function bootstrapMedian(values: readonly number[], rng: () => number, resamples: number, confidence: number): { low: number | null; high: number | null } {
  if (values.length < 2) return { low: null, high: null };
  const meds = new Float64Array(resamples);
  const draw = new Array<number>(values.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < values.length; i++) draw[i] = values[Math.floor(rng() * values.length)]!;
    meds[r] = percentile(draw, 50)!;
  }
  const a = (1 - confidence) / 2;
  return { low: percentile(Array.from(meds), a * 100), high: percentile(Array.from(meds), (1 - a) * 100) };
}

function replayStats(sides: OffloadSide[], rng: () => number, resamples: number, confidence: number): ReplayStats {
  const ok = sides.filter((x) => x.valid && x.ttft_s !== null).map((x) => x.ttft_s!);
  const iv = bootstrapMedian(ok, rng, resamples, confidence);
  const engine = sides.filter((x) => x.valid && num(x.engine_first_token_s) !== null).map((x) => x.engine_first_token_s!);
  return {
    n: sides.length,
    valid: ok.length,
    ttft_median_s: percentile(ok, 50),
    ci_low_s: iv.low,
    ci_high_s: iv.high,
    engine_first_token_median_s: percentile(engine, 50),
    invalid_reasons: sides.filter((x) => !x.valid).map((x) => x.invalid_reason ?? 'invalid'),
  };
}

function offloadReport(id: string, runs: SweepRun[], opts: { baseline?: string; resamples?: number; confidence?: number; seed?: number | string }): OffloadSweepReport {
  const systems = [...new Set(runs.map((r) => r.label))];
  const baseline = opts.baseline && systems.includes(opts.baseline) ? opts.baseline : systems.includes('pcie') ? 'pcie' : systems[0]!;
  const resamples = opts.resamples ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  const lengths = [...new Set(runs.map((r) => Number(r.point)).filter((n) => Number.isFinite(n)))].sort((a, b) => a - b);
  const points: OffloadPoint[] = lengths.map((len) => {
    const p: OffloadPoint = { prompt_tokens: len, vs_baseline: [], systems: {} };
    const validOffload: Record<string, number[]> = {};
    for (const sys of systems) {
      const at = runs.filter((r) => r.label === sys && Number(r.point) === len);
      // Recompute: the run without a host cache; offload: the one with it (latest of each).
      const hostless = (r: SweepRun) => {
        const kv = runMeta(r.run)['kv_config'];
        return isRecord(kv) && kv['host_cache_gb'] === 0;
      };
      const recs = at.filter(hostless);
      const offs = at.filter((r) => !hostless(r));
      const rec = recs.at(-1);
      const off = offs.at(-1);
      const ref = (off ?? rec)?.run;
      const tpb = ref ? (kvPoolsOf(ref)?.tokens_per_block ?? null) : null;
      const full = tpb ? Math.floor(len / tpb) : 0;
      const bb = ref ? blockBytes(ref) : null;
      const bw = off ? onboardBandwidth(off.run, bb) : null;
      const measuredBw = bw?.gbps ?? null;
      const null_reasons: Record<string, string> = {};
      const kvBytes = bb !== null && tpb ? full * bb : null;
      if (kvBytes === null) null_reasons.kv_bytes = 'the run does not record the KV bytes of a block (kv_pools.block_bytes)';
      if (measuredBw === null) null_reasons.bandwidth_gbps = off ? 'no onboard bandwidth: not measured by the engine, no link check at this block size, no profile figure' : 'no offload run at this length';
      const bound = off && kvBytes !== null && bw && bw.gbps > 0 ? replayLinkBound(off.run, kvBytes, bw, bb) : null;
      const offSides = offs.map((r) => judgeReplay(r.run, 'offload', full));
      const recSides = recs.map((r) => judgeReplay(r.run, 'recompute', full));
      const offload = offSides.at(-1) ?? null;
      const recompute = recSides.at(-1) ?? null;
      const rng = seedrandom.alea(`${opts.seed ?? 1}|offload|${id}|${len}|${sys}`);
      const offStats = replayStats(offSides, rng, resamples, confidence);
      const recStats = replayStats(recSides, rng, resamples, confidence);
      validOffload[sys] = offSides.filter((x) => x.valid && x.ttft_s !== null).map((x) => x.ttft_s!);
      const flags: string[] = [];
      if (offStats.valid < offStats.n) flags.push(`the counters confirm ${offStats.valid} of ${offStats.n} onboard replays (${offStats.invalid_reasons[0]})`);
      if (recStats.valid < recStats.n) flags.push(`the counters confirm ${recStats.valid} of ${recStats.n} recompute replays (${recStats.invalid_reasons[0]})`);
      if (offStats.n > 0 && offStats.n < 3) flags.push(`${offStats.n} onboard replay(s): fewer than 3, no trustworthy interval`);
      if (offSides.some((x) => x.host_bound === true)) flags.push('host-bound (run_meta.host_bound): the simulator\'s host was late enough to shape the replay\'s TTFT');
      const eng = offStats.engine_first_token_median_s;
      if (eng !== null && offStats.ttft_median_s !== null && offStats.ttft_median_s - eng > HOST_SHARE_FLAG * offStats.ttft_median_s) {
        flags.push(
          `host-dominated: ${((offStats.ttft_median_s - eng) * 1000).toFixed(1)} ms of its ${(offStats.ttft_median_s * 1000).toFixed(1)} ms TTFT is outside the engine (client wait, transport), the engine's own first token ${(eng * 1000).toFixed(1)} ms`,
        );
      }
      const medOff = offStats.ttft_median_s;
      const medRec = recStats.ttft_median_s;
      p.systems[sys] = {
        offload,
        recompute,
        offload_replays: offStats,
        recompute_replays: recStats,
        flags,
        kv_bytes: kvBytes,
        bandwidth_gbps: measuredBw,
        bandwidth_source: bound?.source ?? bw?.source ?? null,
        link_bound_s: bound?.bound ?? null,
        speedup: medOff && medRec ? medRec / medOff : null,
        null_reasons,
      };
    }
    // Time beyond the link bound is compute and overhead, which the shipped profiles share: a system
    // that needs much more of it than another is not showing its link (host lateness, queueing).
    const beyond = (sys: string) => {
      const x = p.systems[sys]!;
      return x.offload_replays.ttft_median_s !== null && x.link_bound_s !== null ? x.offload_replays.ttft_median_s - x.link_bound_s : null;
    };
    const beyonds = systems.map(beyond).filter((v): v is number => v !== null);
    const least = beyonds.length ? Math.min(...beyonds) : null;
    for (const sys of systems) {
      const b = beyond(sys);
      const x = p.systems[sys]!;
      if (b !== null && least !== null && b > least * OVER_LINK_FACTOR + OVER_LINK_SLACK_S) {
        x.flags.push(
          `slower than its link bound allows: ${(b * 1000).toFixed(1)} ms beyond its ${(x.link_bound_s! * 1000).toFixed(1)} ms link bound, against ${(least * 1000).toFixed(1)} ms beyond the bound on the fastest system (same compute tables)`,
        );
      }
    }
    const base = validOffload[baseline] ?? [];
    for (const sys of systems) {
      if (sys === baseline) continue;
      const other = validOffload[sys] ?? [];
      const mb = percentile(base, 50);
      const mo = percentile(other, 50);
      const ratio = mb && mo !== null ? mo / mb : null;
      let ci_low: number | null = null;
      let ci_high: number | null = null;
      if (ratio !== null && base.length >= 2 && other.length >= 2) {
        const rng = seedrandom.alea(`${opts.seed ?? 1}|offload-ratio|${id}|${len}|${baseline}|${sys}`);
        const rs: number[] = [];
        for (let k = 0; k < resamples; k++) {
          const d = (v: number[]) => percentile(v.map(() => v[Math.floor(rng() * v.length)]!), 50)!;
          const db = d(base);
          if (db > 0) rs.push(d(other) / db);
        }
        const a = (1 - confidence) / 2;
        ci_low = percentile(rs, a * 100);
        ci_high = percentile(rs, (1 - a) * 100);
      }
      p.vs_baseline.push({ system: sys, baseline, ratio, ci_low, ci_high });
    }
    return p;
  });
  return { sweep_id: id, baseline, systems, provenance: sweepProvenance(runs.map((r) => r.run)), points };
}
