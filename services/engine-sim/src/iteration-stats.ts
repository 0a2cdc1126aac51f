/**
 * One entry of GET /metrics in TensorRT-LLM's IterationStats JSON shape: cumulative
 * `kvCacheStats` (GPU pool) and per-iteration `kvCacheIterationStats` deltas keyed by the
 * attention window, plus the simulator's own `sim` timing breakdown (modelled seconds).
 */
import type { BlockCounters, BlockManager } from './blocks.js';
import type { IterationResult } from './engine.js';

export type IterationStats = Record<string, unknown>;

export interface IterationStatsInput {
  r: IterationResult;
  /** Block counters before the iteration. */
  c0: Readonly<BlockCounters>;
  blocks: BlockManager;
  kvCacheStats: Record<string, number>;
  windowSize: number;
  maxBatchSize: number;
  maxNumTokens: number;
  numActive: number;
  numQueued: number;
  completed: number;
  newlyActive: number;
  numGen: number;
  numCtxRequests: number;
  numCtxTokens: number;
  wall: Date;
  labels?: Record<string, unknown>;
}

export function buildIterationStats(i: IterationStatsInput): IterationStats {
  const c = i.blocks.counters;
  const d = (k: keyof BlockCounters) => c[k] - i.c0[k];
  const reused = d('reusedBlocks');
  const missed = d('missedBlocks');
  const bb = i.blocks.blockBytes;
  const { r } = i;
  return {
    ...i.labels,
    timestamp: formatTimestamp(i.wall),
    iter: r.iter,
    iterLatencyMS: (r.end - r.start) * 1e3,
    newActiveRequestsQueueLatencyMS: 0,
    numNewActiveRequests: i.newlyActive,
    numActiveRequests: i.numActive,
    numQueuedRequests: i.numQueued,
    numCompletedRequests: i.completed,
    maxNumActiveRequests: i.maxBatchSize,
    maxBatchSizeStatic: i.maxBatchSize,
    maxBatchSizeRuntime: i.maxBatchSize,
    maxNumTokensStatic: i.maxNumTokens,
    maxNumTokensRuntime: i.maxNumTokens,
    gpuMemUsage: 0,
    cpuMemUsage: 0,
    pinnedMemUsage: i.blocks.hostBlocks * bb,
    kvCacheStats: i.kvCacheStats,
    kvCacheIterationStats: {
      [String(i.windowSize)]: {
        primaryMaxNumBlocks: i.blocks.gpuBlocks,
        primaryFreeNumBlocks: i.blocks.gpuFree,
        primaryUsedNumBlocks: i.blocks.gpuUsed,
        secondaryMaxNumBlocks: i.blocks.hostBlocks,
        secondaryFreeNumBlocks: i.blocks.hostBlocks - i.blocks.hostUsed,
        secondaryUsedNumBlocks: i.blocks.hostUsed,
        iterAllocTotalBlocks: d('allocTotalBlocks'),
        iterAllocNewBlocks: d('allocNewBlocks'),
        iterReusedBlocks: reused,
        iterFullReusedBlocks: reused,
        iterPartialReusedBlocks: 0,
        iterMissedBlocks: missed,
        iterCacheHitRate: reused + missed === 0 ? 0 : reused / (reused + missed),
        iterOnboardBlocks: r.onboardBlocks,
        iterOnboardBytes: r.onboardBlocks * bb,
        iterOffloadBlocks: r.offloadBlocks,
        iterOffloadBytes: r.offloadBlocks * bb,
        iterIntraDeviceCopyBlocks: 0,
        iterIntraDeviceCopyBytes: 0,
      },
    },
    inflightBatchingStats: {
      numScheduledRequests: i.numGen + i.numCtxRequests,
      numContextRequests: i.numCtxRequests,
      numGenRequests: i.numGen,
      numPausedRequests: 0,
      numCtxTokens: i.numCtxTokens,
      microBatchId: 0,
      avgNumDecodedTokensPerIter: i.numGen > 0 ? 1 : 0,
    },
    sim: { startS: r.start, endS: r.end, transferS: r.transferSeconds, h2dS: r.h2dSeconds, d2hS: r.d2hSeconds, computeS: r.computeSeconds },
  };
}

/** TensorRT-LLM's iteration-stats timestamp: "MM-DD-YYYY HH:MM:SS" (UTC here). */
function formatTimestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}
