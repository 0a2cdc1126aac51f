/** @kvbench/aggregator public API: the app, its configuration and the store's queries. */
export { buildApp, aggregatorApp, type AppDeps, type AppOptions } from './app.js';
export { loadAggregatorConfig, aggregatorEnvSchema, type AggregatorConfig, type IngestSettings } from './config.js';
export { openDatabase, type Database } from './store/database.js';
export { migrate, schemaVersion, MIGRATIONS } from './store/migrations.js';
export { createEventWriter, type EventWriter } from './store/writer.js';
export type { StoreNotice } from './store/notices.js';
export { listRuns, getRun, latestAttempt, type RunFilter } from './store/runs.js';
export {
  getRunResult,
  getResults,
  getResultsSummary,
  resultsJsonChunks,
  iterateSamples,
  iterateSampleJson,
  listCompletedRuns,
  latestRunsByWorkload,
  type CompletedRun,
  type ResultsSummaryDocument,
  type ResultsFilter,
} from './store/results.js';
export { sampleColumns, type SampleColumns } from './store/columns.js';
export { RUN_STATUSES, ATTEMPT_STATUSES, type RunStatusName, type AttemptStatusName } from './store/run-status.js';
export * as apiSchemas from './api-schemas.js';
export { NoticeBus } from './ingest/notice-bus.js';
export { EventIngest, type IngestStats } from './ingest/consumer.js';
export { decodeEvent } from './ingest/decode.js';
