export { COUNTERS, TelemetryUnavailable, emptyPoint, type Counter, type Gpu, type TelemetrySource } from './source.js';
export { NVML_SIDECAR_PATH, NvmlConverter, NvmlHello, NvmlReading, convertNvmlLines, counterDelta, unwrapCounter, openNvmlSource, planFromHello, type NvmlPlan, type PcieMethod } from './nvml.js';
export { DCGM_FIELDS, dcgmPlan, dcgmPoints, openDcgmSource, readDcgmScrape, type DcgmScrape } from './dcgm.js';
export { NVIDIA_SMI_QUERY, SMI_NULL_REASONS, SmiConverter, SmiCsv, openNvidiaSmiSource, type SmiRow } from './nvidia-smi.js';
export { SimBucketer, SimLinkSeries, openSimSource } from './sim.js';
export { BUSY_SHARE, DEFAULT_RATIO_TOLERANCE, summarize, type SummaryInput } from './summary.js';
export { DEFAULT_PERIOD_MS, PointBuffer, openTelemetry, type OpenedTelemetry, type TelemetryOptions } from './sampler.js';
export { CHUNK_POINTS, runTelemetry, type RunTelemetry } from './run-telemetry.js';
export { CapturePhases, analyzeCapture, type CaptureAnalysis, type CapturePhaseResult } from './capture.js';
