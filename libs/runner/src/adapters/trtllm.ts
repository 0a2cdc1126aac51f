/** TensorRT-LLM (`trtllm-serve`): launched with a config for its build, or attached by URL. */
import { relateClocks } from '../clock-offset.js';
import { startEngine, type EngineHandle } from '../engine/start.js';
import { trtllmReaderOptions } from '../stats/reader-options.js';
import { TrtllmStatsReader } from '../stats/trtllm-reader.js';
import type { EngineAdapter } from './adapter.js';

export const trtllmAdapter: EngineAdapter = {
  kind: 'trtllm',
  start: (a) => startEngine(a),
  // An attached URL may turn out to be the simulator (its /version says so).
  simulated: (e) => e.version.engine === 'sim',
  timeScale: (e) => (e.version.engine === 'sim' && e.version.time_scale && e.version.time_scale > 0 ? e.version.time_scale : 1),
  reader: (e, c) => new TrtllmStatsReader(e.url, c.log, trtllmReaderOptions(e)),
  relateClock: (e) => relateClocks(e.url, e.launched),
  perRequest: (e) => ({
    // Only /perf_metrics entries arrive late; per-request metrics by stream come with the sample itself.
    joinLater: e.perRequestMetrics.source === 'endpoint',
    noMetricsReason:
      e.perRequestMetrics.source === 'endpoint'
        ? null
        : e.perRequestMetrics.source === 'stream'
          ? "this request's stream carried no trtllm.perf_metrics event"
          : `this engine build keeps no per-request metrics kvbench can read (${e.perRequestMetrics.reason})`,
  }),
  requestHeaders: (e: EngineHandle) => (e.perRequestMetrics.source === 'stream' ? { 'X-TRTLLM-return-metrics': '1' } : undefined),
  expectedPerfEntries: (_e, samples) => samples,
};
