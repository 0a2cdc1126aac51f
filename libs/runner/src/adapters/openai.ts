/**
 * vLLM and SGLang (engine kind "openai"): attached by URL; their Prometheus /metrics read as window
 * deltas (the flavor — vllm: or sglang: series — decides which counters, stats/openai.ts). Neither
 * reports per-request engine timings kvbench reads, so there is no clock to relate.
 */
import { attachOpenaiEngine } from '../engine/start.js';
import { PrometheusStatsReader } from '../stats/openai.js';
import { openaiUnits } from '../stats/reader-options.js';
import type { EngineAdapter } from './adapter.js';

export const openaiAdapter: EngineAdapter = {
  kind: 'openai',
  start: (a) => attachOpenaiEngine(a),
  simulated: () => false,
  timeScale: () => 1,
  reader: (e, c) => new PrometheusStatsReader(e.url, c.log, openaiUnits(c.job, c.kv, c.agent), { maxMs: c.agent.counterSettleMaxMs }),
  relateClock: async () => ({ offsetS: null, how: 'no /perf_metrics' }),
  perRequest: () => ({ joinLater: false, noMetricsReason: 'an OpenAI-compatible engine (vLLM, SGLang) reports no per-request timings' }),
  requestHeaders: () => undefined,
  expectedPerfEntries: () => 0,
};
