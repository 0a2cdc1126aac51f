/**
 * TensorRT-LLM statistics → log_metrics, as pure functions over the payloads
 * (so fixtures of real shapes test them). The poller that feeds them lives in
 * trtllm-reader.ts.
 *
 * Sources, best first:
 * - `kvCacheIterationStats` (newer builds): per-iteration deltas, summed over the
 *   window — reuse, misses, offload/onboard blocks and bytes.
 * - `kvCacheStats` (every build): cumulative GPU-pool counters; end − start of the
 *   window gives reused/missed blocks when iteration stats are missing.
 * - `/kv_cache_events` (older builds): `updated` events whose cache_level moves
 *   0→1 (offload to host) or 1→0 (onboard), counted when iteration stats are missing.
 */
import type { LogMetrics } from '@kvbench/common';
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
  [k: string]: unknown;
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

  /** Entries read before the window opened: only their cumulative counters matter. */
  addPreWindow(stats: readonly IterationStats[]): void {
    for (const s of stats) if (s.kvCacheStats) this.baseline = s.kvCacheStats;
  }

  addIterations(stats: readonly IterationStats[]): void {
    for (const s of stats) {
      this.iterations++;
      if (s.kvCacheStats) this.latest = s.kvCacheStats;
      const windows = s.kvCacheIterationStats;
      if (!windows || typeof windows !== 'object') continue;
      this.iterationsWithIterStats++;
      let offB = 0;
      let onB = 0;
      let offT: number | null = 0;
      let onT: number | null = 0;
      for (const w of Object.values(windows)) {
        this.reused += n(w.iterReusedBlocks);
        this.missed += n(w.iterMissedBlocks);
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
  const hasIter = w.iterationsWithIterStats > 0;
  const noIterations =
    'the engine reported no iteration statistics during the window (/metrics empty: enable_iter_perf_stats off, or another reader drains the queue)';

  // Reuse and hit rate.
  if (hasIter) {
    set('reused_blocks', w.reused, 'kvCacheIterationStats.iterReusedBlocks, summed over the window');
    const lookups = w.reused + w.missed;
    set(
      'cache_hit_rate',
      lookups > 0 ? w.reused / lookups : null,
      lookups > 0 ? 'kvCacheIterationStats: Σ iterReusedBlocks / (Σ iterReusedBlocks + Σ iterMissedBlocks)' : 'no block lookups in the window (0 reused + 0 missed)',
    );
  } else if (w.latest) {
    const base = w.baseline ?? {};
    const note = w.baseline ? 'end − start of the window' : w.freshEngine ? 'since engine start (kvbench launched it for this run)' : 'since engine start (no earlier snapshot; attached engine may include earlier work)';
    const reused = n(w.latest.reusedBlocks) - n(base.reusedBlocks);
    const missed = n(w.latest.missedBlocks) - n(base.missedBlocks);
    set('reused_blocks', reused, `kvCacheStats.reusedBlocks, ${note}`);
    const lookups = reused + missed;
    set(
      'cache_hit_rate',
      lookups > 0 ? reused / lookups : null,
      lookups > 0 ? `kvCacheStats: Δ reusedBlocks / (Δ reusedBlocks + Δ missedBlocks), ${note}` : 'no block lookups in the window (0 reused + 0 missed)',
    );
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
    } else {
      set(field, null, `no kvCacheIterationStats in /metrics and /kv_cache_events unavailable${w.eventsUnavailableReason ? ` (${w.eventsUnavailableReason})` : ''}`);
    }
  };
  const noBytes = hasIter ? '' : 'this engine build reports no kvCacheIterationStats; /kv_cache_events carry block counts, not bytes';
  if (hasIter) {
    set('offloaded_blocks', w.offloadBlocks, 'kvCacheIterationStats.iterOffloadBlocks, summed over the window');
    set('onboarded_blocks', w.onboardBlocks, 'kvCacheIterationStats.iterOnboardBlocks, summed over the window');
    set('offloaded_bytes', w.offloadBytes, 'kvCacheIterationStats.iterOffloadBytes, summed over the window');
    set('onboarded_bytes', w.onboardBytes, 'kvCacheIterationStats.iterOnboardBytes, summed over the window');
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

  return {
    cache_hit_rate: out['cache_hit_rate'] ?? null,
    reused_blocks: out['reused_blocks'] ?? null,
    offloaded_blocks: out['offloaded_blocks'] ?? null,
    observed_offload_bandwidth_gbps: out['observed_offload_bandwidth_gbps'] ?? null,
    onboarded_blocks: out['onboarded_blocks'] ?? null,
    offloaded_bytes: out['offloaded_bytes'] ?? null,
    onboarded_bytes: out['onboarded_bytes'] ?? null,
    observed_onboard_bandwidth_gbps: out['observed_onboard_bandwidth_gbps'] ?? null,
    sources,
    null_reasons: nullReasons,
  };
}
