/**
 * One adapter per engine kind: it owns launching or attaching the engine, its capability probe (in
 * start), its statistics reader, the relation of its clock to the agent's, and where per-request
 * engine records come from. The run (run.ts) only talks to this interface.
 */
import type { Job, KvConfig, Logger } from '@kvbench/common';
import type { EngineHandle, StartEngineArgs } from '../engine/start.js';
import type { ResolvedAgentOptions } from '../options.js';
import type { PerRequestSource } from '../per-request-join.js';
import type { ClockRelation } from '../stats/perf-metrics.js';
import type { StatsReader } from '../stats/reader.js';

export interface AdapterContext {
  job: Job;
  kv: KvConfig;
  agent: ResolvedAgentOptions;
  log: Logger;
}

export interface EngineAdapter {
  readonly kind: Job['engine']['kind'];
  /** Launch (or attach by URL) and probe what the running engine offers. */
  start(a: StartEngineArgs): Promise<EngineHandle>;
  /** Whether the figures are a model's (labelled simulated everywhere). */
  simulated(engine: EngineHandle): boolean;
  /** Engine seconds per agent second (only a simulator scales time). */
  timeScale(engine: EngineHandle): number;
  /** The run's one statistics reader. */
  reader(engine: EngineHandle, c: AdapterContext): StatsReader;
  /** How the engine's timestamps relate to the agent's clock. */
  relateClock(engine: EngineHandle): Promise<ClockRelation>;
  /** Where per-request engine records come from, and why there are none where there are none. */
  perRequest(engine: EngineHandle): PerRequestSource;
  /** Extra headers on each request (TensorRT-LLM: X-TRTLLM-return-metrics). */
  requestHeaders(engine: EngineHandle): Record<string, string> | undefined;
  /** How many per-request entries the reader's last reads should wait for, given the finished samples. */
  expectedPerfEntries(engine: EngineHandle, samples: number): number;
}
