/**
 * TensorRT-LLM statistics → log_metrics, as pure functions over the payloads
 * (so fixtures of real shapes test them). The poller that feeds them lives in
 * trtllm-reader.ts.
 *
 * Sources, best first:
 * - `kvCacheIterationStats` (newer builds): per-iteration deltas, summed over the
 *   window — reuse, misses, offload/onboard blocks and bytes. Under the KV cache
 *   manager V2 (2026 main) the same deltas come as `kvCacheIterationStatsByPoolGroup`
 *   (with `...ByLifecycle` and `...ByColdPoolGroup` as other breakdowns of them,
 *   never added to it: ENGINES.md, newest main).
 * A sum is only a total if kvbench saw every iteration: gaps in `iter` (another
 * reader drained /metrics) make it partial, and then it is not published as one.
 * - `kvCacheStats` (every build): cumulative GPU-pool counters; end − start of the
 *   window gives reused/missed blocks when iteration stats are missing.
 * - `/kv_cache_events` (older builds): `updated` events whose cache_level moves
 *   0→1 (offload to host) or 1→0 (onboard), counted when iteration stats are missing.
 */
import { logMetricsOf, type LogMetrics } from '@kvbench/common';
import { countTransfers } from './kv-events-worker.js';

export interface KvCacheStats {
  maxNumBlocks?: number;
  freeNumBlocks?: number;
  usedNumBlocks?: number;
  tokensPerBlock?: number;
  allocTotalBlocks?: number;
  allocNewBlocks?: number;
  reusedBlocks?: number;
  missedBlocks?: number;
  cacheHitRate?: number;
}

/** One window size's per-iteration deltas (newer builds). */
export interface KvCacheIterationStats {
  iterReusedBlocks?: number;
  iterMissedBlocks?: number;
  iterOffloadBlocks?: number;
  iterOffloadBytes?: number;
  iterOnboardBlocks?: number;
  iterOnboardBytes?: number;
  /**
   * Time spent moving the blocks, when an engine reports it (the simulator does;
   * TensorRT-LLM does not as of this writing). Milliseconds.
   */
  iterOffloadTimeMS?: number;
  iterOnboardTimeMS?: number;
  [k: string]: unknown;
}

export interface IterationStats {
  iter?: number;
  /** The simulator's own record of the iteration: each direction's copy time, and both together. */
  sim?: { transferS?: number; d2hS?: number; h2dS?: number; [k: string]: unknown };
  iterLatencyMS?: number;
  timestamp?: string;
  kvCacheStats?: KvCacheStats;
  kvCacheIterationStats?: Record<string, KvCacheIterationStats>;
  /** KV cache manager V2 (use_kv_cache_manager_v2, "auto" on 2026 main): the deltas by pool group. */
  kvCacheIterationStatsByPoolGroup?: Record<string, KvCacheIterationStats>;
  kvCacheIterationStatsByLifecycle?: Record<string, KvCacheIterationStats>;
  kvCacheIterationStatsByColdPoolGroup?: Record<string, KvCacheIterationStats>;
  [k: string]: unknown;
}

/**
 * The per-iteration KV deltas of one entry. V1: `kvCacheIterationStats` by window size. V2 (KV cache
 * manager V2): reuse and misses by lifecycle, transfers by pool group — the partitions TensorRT-LLM's
 * own Prometheus collector reads (tensorrt_llm metrics collector: `reuse_stats = by_lifecycle or
 * kvCacheIterationStats`, `pool_group_stats = by_pool_group or kvCacheIterationStats`); each is
 * summed over its own keys and never added to another breakdown of the same blocks.
 */
export function iterationKvDeltas(s: IterationStats): {
  reuseKey: string;
  reuse: Record<string, KvCacheIterationStats>;
  transferKey: string;
  transfer: Record<string, KvCacheIterationStats>;
} | null {
  const obj = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, KvCacheIterationStats>) : null);
  const v1 = obj(s.kvCacheIterationStats);
  const life = obj(s.kvCacheIterationStatsByLifecycle);
  const pool = obj(s.kvCacheIterationStatsByPoolGroup);
  if (!v1 && !life && !pool) return null;
  return {
    reuseKey: life ? 'kvCacheIterationStatsByLifecycle' : v1 ? 'kvCacheIterationStats' : 'kvCacheIterationStatsByPoolGroup',
    reuse: life ?? v1 ?? pool!,
    transferKey: pool ? 'kvCacheIterationStatsByPoolGroup' : v1 ? 'kvCacheIterationStats' : 'kvCacheIterationStatsByLifecycle',
    transfer: pool ?? v1 ?? life!,
  };
}

export interface KvCacheEvent {
  event_id?: number;
  window_size?: number;
  data?: { type?: string; cache_level?: { old_value?: number; new_value?: number } | null; [k: string]: unknown };
}

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Running sums over the measured window. */
export class TrtllmWindow {
  /** Cumulative kvCacheStats just before the window (null: none seen before it). */
  baseline: KvCacheStats | null = null;
  /** Cumulative kvCacheStats at the latest iteration in the window. */
  latest: KvCacheStats | null = null;
  iterations = 0;
  iterationsWithIterStats = 0;
  reused = 0;
  missed = 0;
  offloadBlocks = 0;
  offloadBytes = 0;
  onboardBlocks = 0;
  onboardBytes = 0;
  /** Reported transfer time (ms), and whether every iteration that moved bytes reported it. */
  offloadTimeMs = 0;
  onboardTimeMs = 0;
  offloadTimeComplete = true;
  onboardTimeComplete = true;
  /** Σ iterLatencyMS of iterations that moved bytes each way (the fallback denominator). */
  offloadIterMs = 0;
  onboardIterMs = 0;
  offloadIterLatencyMissing = false;
  onboardIterLatencyMissing = false;
  /** /kv_cache_events answered at least once. */
  eventsAvailable = false;
  eventsUnavailableReason: string | null = null;
  eventOffloads = 0;
  eventOnboards = 0;
  /** The engine was started by kvbench for this run (no earlier activity). */
  freshEngine = false;
  /** Highest `iter` seen; iterations missing between two seen ones were read by someone else. */
  lastIter: number | null = null;
  /** The `iter` of the latest kvCacheStats (the cumulative counters are as of it). */
  latestIter: number | null = null;
  lostIterations = 0;
  duplicateIterations = 0;
  /** The keys the KV deltas came under: reuse (kvCacheIterationStats, V2 ...ByLifecycle) and transfers (V2 ...ByPoolGroup). */
  deltasKey: string | null = null;
  transferKey: string | null = null;
  /** The build has no offload counters and its KV events stay off: why offload/onboard figures are null. */
  noOffloadCounters: string | null = null;
  /** Why another reader may be draining /metrics (the build's own collector), for the reasons given. */
  drainerNote: string | null = null;

  /** Counts gaps and repeats in `iter`; false for an entry already counted. */
  private sequence(s: IterationStats): boolean {
    if (typeof s.iter !== 'number') return true;
    if (this.lastIter !== null) {
      if (s.iter <= this.lastIter) {
        this.duplicateIterations++;
        return false;
      }
      this.lostIterations += s.iter - this.lastIter - 1;
    }
    this.lastIter = s.iter;
    return true;
  }

  /** Another source (a request's perf metrics: last_iter) proves iteration `iter` happened. */
  sawIterationElsewhere(iter: number): void {
    this.highestKnownIter = Math.max(this.highestKnownIter ?? iter, iter);
  }
  highestKnownIter: number | null = null;

  /**
   * The latest cumulative counters are as of the window's last iteration: another source (perf
   * metrics' last_iter) says which that was. Unknown when nothing says so.
   */
  cumulativeIsCurrent(): boolean {
    return this.highestKnownIter !== null && this.latestIter !== null && this.latestIter >= this.highestKnownIter;
  }

  /** Iterations lost, counting a tail that another source proves happened. */
  lost(): number {
    const tail = this.highestKnownIter !== null && this.lastIter !== null && this.highestKnownIter > this.lastIter ? this.highestKnownIter - this.lastIter : 0;
    return this.lostIterations + tail;
  }

  /** Entries read before the window opened: only their cumulative counters matter. */
  addPreWindow(stats: readonly IterationStats[]): void {
    for (const s of stats) {
      this.sequence(s);
      if (s.kvCacheStats) this.baseline = s.kvCacheStats;
    }
  }

  addIterations(stats: readonly IterationStats[]): void {
    for (const s of stats) {
      if (!this.sequence(s)) continue;
      this.iterations++;
      if (s.kvCacheStats) {
        this.latest = s.kvCacheStats;
        this.latestIter = typeof s.iter === 'number' ? s.iter : null;
      }
      const deltas = iterationKvDeltas(s);
      if (!deltas) continue;
      this.deltasKey ??= deltas.reuseKey;
      this.transferKey ??= deltas.transferKey;
      this.iterationsWithIterStats++;
      let offB = 0;
      let onB = 0;
      let offT: number | null = 0;
      let onT: number | null = 0;
      for (const w of Object.values(deltas.reuse)) {
        this.reused += n(w.iterReusedBlocks);
        this.missed += n(w.iterMissedBlocks);
      }
      for (const w of Object.values(deltas.transfer)) {
        this.offloadBlocks += n(w.iterOffloadBlocks);
        this.onboardBlocks += n(w.iterOnboardBlocks);
        offB += n(w.iterOffloadBytes);
        onB += n(w.iterOnboardBytes);
        offT = typeof w.iterOffloadTimeMS === 'number' && offT !== null ? offT + w.iterOffloadTimeMS : null;
        onT = typeof w.iterOnboardTimeMS === 'number' && onT !== null ? onT + w.iterOnboardTimeMS : null;
      }
      // The simulator reports each direction's copy time (sim.d2hS offload, sim.h2dS onboard);
      // older builds only the iteration's transfer time (sim.transferS), both directions together,
      // which each direction that moved bytes then gets (a lower bound for both).
      const ms = (v: unknown) => (typeof v === 'number' ? v * 1000 : null);
      const simTransferMs = ms(s.sim?.transferS);
      if (offT === null) offT = ms(s.sim?.d2hS) ?? simTransferMs;
      if (onT === null) onT = ms(s.sim?.h2dS) ?? simTransferMs;
      this.offloadBytes += offB;
      this.onboardBytes += onB;
      if (offB > 0) {
        if (offT === null) this.offloadTimeComplete = false;
        else this.offloadTimeMs += offT;
        if (typeof s.iterLatencyMS === 'number') this.offloadIterMs += s.iterLatencyMS;
        else this.offloadIterLatencyMissing = true;
      }
      if (onB > 0) {
        if (onT === null) this.onboardTimeComplete = false;
        else this.onboardTimeMs += onT;
        if (typeof s.iterLatencyMS === 'number') this.onboardIterMs += s.iterLatencyMS;
        else this.onboardIterLatencyMissing = true;
      }
    }
  }

  addEvents(events: readonly KvCacheEvent[]): void {
    const { offloads, onboards } = countTransfers(events);
    this.addEventCounts(offloads, onboards);
  }

  /** Counts already taken from a /kv_cache_events payload (kv-events-worker). */
  addEventCounts(offloads: number, onboards: number): void {
    this.eventsAvailable = true;
    this.eventOffloads += offloads;
    this.eventOnboards += onboards;
  }

  eventsFailed(reason: string): void {
    if (!this.eventsAvailable) this.eventsUnavailableReason = reason;
  }

  logMetrics(): LogMetrics {
    return trtllmLogMetrics(this);
  }
}

const GB = 1e9;

/** log_metrics from a window's sums. Every value names its source; every null its reason. */
export function trtllmLogMetrics(w: TrtllmWindow): LogMetrics {
  const sources: Record<string, string> = {};
  const nullReasons: Record<string, string> = {};
  const out: Record<string, number | null> = {};
  const set = (field: string, value: number | null, sourceOrReason: string) => {
    out[field] = value;
    if (value === null) nullReasons[field] = sourceOrReason;
    else sources[field] = sourceOrReason;
  };
  const lost = w.lost();
  const key = w.deltasKey ?? 'kvCacheIterationStats';
  const tkey = w.transferKey ?? key;
  const lostReason =
    // Gaps in iter have two causes: the engine's queue keeps only iter_stats_max_iterations entries and
    // drops the oldest when more iterations ran between two reads (a fast engine, a time-scaled
    // simulator, a starved reader), or another reader drained them (a build's own collector).
    `${lost} iteration(s) of the window never reached kvbench (gaps in iter: more iterations ran between two reads of /metrics than the engine keeps, iter_stats_max_iterations, ` +
    `or another reader drained them${w.drainerNote ? `; ${w.drainerNote}` : ''}): ` +
    `a sum of the ${w.iterations} kvbench received would be partial, so it is not given as the window's total`;
  const hasIter = w.iterationsWithIterStats > 0 && lost === 0;
  const noIterations =
    'the engine reported no iteration statistics during the window (/metrics empty: enable_iter_perf_stats off, or another reader drains the queue)';

  // Reuse and hit rate.
  if (hasIter) {
    set('reused_blocks', w.reused, `${key}.iterReusedBlocks, summed over the window (every iteration received)`);
    const lookups = w.reused + w.missed;
    set(
      'cache_hit_rate',
      lookups > 0 ? w.reused / lookups : null,
      lookups > 0 ? `${key}: Σ iterReusedBlocks / (Σ iterReusedBlocks + Σ iterMissedBlocks)` : 'no block lookups in the window (0 reused + 0 missed)',
    );
  } else if (w.latest && (w.baseline || w.freshEngine || lost === 0) && (lost === 0 || w.cumulativeIsCurrent())) {
    // Cumulative counters: an iteration another reader took is still counted in the next one kvbench sees.
    const base = w.baseline ?? {};
    const note =
      (w.baseline ? 'end − start of the window' : w.freshEngine ? 'since engine start (kvbench launched it for this run)' : 'since engine start (no earlier snapshot; attached engine may include earlier work)') +
      (lost > 0 ? `, as of iteration ${w.latestIter ?? '?'} (the last kvbench received; ${lost} iteration(s) went to another reader, and the cumulative counters need none of them)` : '');
    const reused = n(w.latest.reusedBlocks) - n(base.reusedBlocks);
    set('reused_blocks', reused, `kvCacheStats.reusedBlocks, ${note}`);
    if (typeof w.latest.missedBlocks !== 'number') {
      set('cache_hit_rate', null, 'kvCacheStats has no missedBlocks on this build (pre-1.0 PyTorch builds): no hit rate without per-iteration deltas');
    } else {
      const missed = w.latest.missedBlocks - n(base.missedBlocks);
      const lookups = reused + missed;
      set(
        'cache_hit_rate',
        lookups > 0 ? reused / lookups : null,
        lookups > 0 ? `kvCacheStats: Δ reusedBlocks / (Δ reusedBlocks + Δ missedBlocks), ${note}` : 'no block lookups in the window (0 reused + 0 missed)',
      );
    }
  } else if (lost > 0) {
    const why = w.latest
      ? `${lostReason}; the cumulative kvCacheStats kvbench last received (iteration ${w.latestIter ?? '?'}) cannot be shown to be as of the window's end`
      : lostReason;
    set('reused_blocks', null, why);
    set('cache_hit_rate', null, why);
  } else {
    set('reused_blocks', null, noIterations);
    set('cache_hit_rate', null, noIterations);
  }

  // Blocks and bytes each way.
  const fromEvents = (dir: 'offload' | 'onboard') => {
    const field = dir === 'offload' ? 'offloaded_blocks' : 'onboarded_blocks';
    if (w.eventsAvailable) {
      set(
        field,
        dir === 'offload' ? w.eventOffloads : w.eventOnboards,
        dir === 'offload' ? '/kv_cache_events: updated events with cache_level 0→1 (GPU→host)' : '/kv_cache_events: updated events with cache_level 1→0 (host→GPU)',
      );
    } else if (w.noOffloadCounters && w.iterationsWithIterStats === 0) {
      set(field, null, w.noOffloadCounters);
    } else {
      set(field, null, `no kvCacheIterationStats in /metrics and /kv_cache_events unavailable${w.eventsUnavailableReason ? ` (${w.eventsUnavailableReason})` : ''}`);
    }
  };
  const noBytes =
    lost > 0
      ? lostReason
      : hasIter
        ? ''
        : w.noOffloadCounters && w.iterationsWithIterStats === 0
          ? w.noOffloadCounters
          : 'this engine build reports no kvCacheIterationStats; /kv_cache_events carry block counts, not bytes';
  if (hasIter) {
    set('offloaded_blocks', w.offloadBlocks, `${tkey}.iterOffloadBlocks, summed over the window`);
    set('onboarded_blocks', w.onboardBlocks, `${tkey}.iterOnboardBlocks, summed over the window`);
    set('offloaded_bytes', w.offloadBytes, `${tkey}.iterOffloadBytes, summed over the window`);
    set('onboarded_bytes', w.onboardBytes, `${tkey}.iterOnboardBytes, summed over the window`);
  } else if (lost > 0 && w.iterationsWithIterStats > 0) {
    for (const f of ['offloaded_blocks', 'onboarded_blocks', 'offloaded_bytes', 'onboarded_bytes']) set(f, null, lostReason);
  } else {
    fromEvents('offload');
    fromEvents('onboard');
    set('offloaded_bytes', null, noBytes);
    set('onboarded_bytes', null, noBytes);
  }

  // Bandwidth: bytes / time spent moving them (see README "Offload bandwidth").
  const bandwidth = (field: string, bytes: number, timeMs: number, timeComplete: boolean, iterMs: number, iterMissing: boolean, what: string) => {
    if (!hasIter) return set(field, null, noBytes);
    if (bytes === 0) return set(field, null, `no ${what} in the window: nothing to measure`);
    if (timeComplete && timeMs > 0) {
      return set(field, bytes / (timeMs / 1000) / GB, `Σ iter${what === 'offload' ? 'Offload' : 'Onboard'}Bytes / Σ transfer time the engine reported (iter${what === 'offload' ? 'Offload' : 'Onboard'}TimeMS, or the simulator's sim.${what === 'offload' ? 'd2hS' : 'h2dS'}), GB = 1e9 bytes`);
    }
    if (iterMissing || iterMs <= 0) return set(field, null, `the engine reports neither ${what} transfer time nor iteration latency`);
    return set(
      field,
      bytes / (iterMs / 1000) / GB,
      `Σ iter${what === 'offload' ? 'Offload' : 'Onboard'}Bytes / Σ iterLatencyMS of the iterations that moved them (lower bound: the engine reports no transfer time, and an iteration also computes)`,
    );
  };
  bandwidth('observed_offload_bandwidth_gbps', w.offloadBytes, w.offloadTimeMs, w.offloadTimeComplete, w.offloadIterMs, w.offloadIterLatencyMissing, 'offload');
  bandwidth('observed_onboard_bandwidth_gbps', w.onboardBytes, w.onboardTimeMs, w.onboardTimeComplete, w.onboardIterMs, w.onboardIterLatencyMissing, 'onboard');

  return logMetricsOf((k) => out[k], sources, nullReasons);
}
