import type { LogMetrics } from '@kvbench/common';
import type { Capability } from '../engine/capabilities.js';
import type { PerfEntry } from './perf-metrics.js';

/**
 * The one statistics reader of an engine for a run. trtllm's /metrics,
 * /perf_metrics and /kv_cache_events drain their queues, so nothing else may
 * read them while a run is measured.
 */
export interface StatsReader {
  /** Drain what precedes the window and snapshot the cumulative counters. */
  open(): Promise<void>;
  /** One poll during the window. */
  poll(): Promise<void>;
  /** Last reads after the final request; the window's log_metrics. */
  close(expectedPerfEntries: number): Promise<LogMetrics>;
  /** log_metrics so far (progress events). */
  current(): LogMetrics;
  /** /perf_metrics entries read since the last call. */
  takePerfEntries(): PerfEntry[];
  /** Release what the reader holds (a worker thread) without a final read; safe to call twice. */
  abandon?(): Promise<void>;
  /** What the statistics showed the engine offers (observed during the run; replaces version-based entries). */
  capabilities?(): Capability[];
  /** What the reader saw, for run_meta (endpoint errors, counts). */
  describe(): Record<string, unknown>;
}
