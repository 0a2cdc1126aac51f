/**
 * @kvbench/runner — the agent's logic: start or attach an engine (simulator,
 * TensorRT-LLM, vLLM/SGLang), replay a workload with streaming requests, measure
 * TTFT and latency on the agent's clock, read the engine's cache statistics, and
 * return the run in the results-document shape.
 */
export { runBenchmark, Run, type RunContext } from './run.js';
export { adapterFor, type AdapterContext, type EngineAdapter } from './adapters/index.js';
export { simAdapter } from './adapters/sim.js';
export { PerRequestJoin, type PerRequestSource } from './per-request-join.js';
export type { AgentOptions, SimOptions, SimulatorLauncher } from './options.js';
export { resolveAgentOptions } from './options.js';
export { trtllmConfig, trtllmConfigFor, trtllmConfigYaml, type TrtllmConfig, type LeftOut } from './engine/config-yaml.js';
export { capabilitiesOf, capabilitiesOfVersion, describeBuild, detectTrtllm, generationOf, parseTrtllmVersion, versionFromBanner, type TrtllmBuild, type TrtllmCapabilities, type TrtllmGeneration } from './engine/trtllm-build.js';
export { chunkedPrefillFor, trtllmNoOffloadReason } from './engine/start.js';
export { mergeCapabilities, type Capability } from './engine/capabilities.js';
export { parsePrometheusText, sumSeries, seriesByLabel, PrometheusParseError, type PromText, type PromSample, type PromFamily } from './stats/prometheus.js';
export { openaiLogMetrics, kvBytesPerTokenOf, type OpenaiUnits } from './stats/openai.js';
export { fillFromTrtllmPrometheus } from './stats/trtllm-prometheus.js';
export { TrtllmStatsReader, type TrtllmReaderOptions } from './stats/trtllm-reader.js';
export { TrtllmWindow, trtllmLogMetrics, type IterationStats, type KvCacheEvent, type KvCacheStats, type KvCacheIterationStats } from './stats/trtllm.js';
export { joinPerfMetrics, perfEntryFromMetricsHeaders, serverMetrics, type PerfEntry, type JoinCandidate, type ClockRelation } from './stats/perf-metrics.js';
export { clientOnlyBreakdown, engineBreakdown, requestTokens, type ClientTimes } from './breakdown.js';
export { bestOffset, relateClocks, type ClockExchange } from './clock-offset.js';
export { collectEnvironment, parseNvidiaSmiCsv, type EnvironmentInfo, type GpuInfo } from './environment.js';
export { completionBody, replayWorkload, type ReplayOptions, type CompletedRequest } from './replay.js';
export { planWorkload, tokenIdBody, type Plan, type PlannedRequest } from './plan.js';
export { streamCompletion, TRTLLM_PERF_METRICS_EVENT, type CompletionOutcome } from './completion.js';
export { createKeepAliveAgent } from './http.js';
export { kvbenchVersion } from './version.js';
