/**
 * What each statistics reader is told about the engine it reads: which endpoints are worth
 * reading for the detected build, why the others are not, and the units that turn an
 * engine's token counters into blocks and bytes.
 */
import type { Job, KvConfig } from '@kvbench/common';
import type { EngineHandle } from '../engine/start.js';
import type { ResolvedAgentOptions } from '../options.js';
import { kvBytesPerTokenOf, type OpenaiUnits } from './openai.js';
import type { TrtllmReaderOptions } from './trtllm-reader.js';

export function trtllmReaderOptions(e: EngineHandle): TrtllmReaderOptions {
  return {
    freshEngine: e.launched,
    readKvEvents: e.readKvEvents,
    kvEventsOffReason: e.kvEventsOffReason ?? 'not needed: the iteration stats carry the offload/onboard counts',
    noOffloadCounters: e.readKvEvents ? null : e.kvEventsOffReason,
    readPerfEndpoint: e.perRequestMetrics.source === 'endpoint',
    drainerNote: e.iterStatsMayBeDrained
      ? `on TensorRT-LLM ${e.build?.version ?? e.build?.generation} return_perf_metrics starts a background collector that drains the same queue (PR #11243, until PR #13405)`
      : null,
  };
}

/** What turns SGLang's token counters into blocks and bytes (engine options, else null with the reason). */
export function openaiUnits(job: Job, kv: KvConfig, agent: ResolvedAgentOptions): OpenaiUnits {
  const fromJob = kvBytesPerTokenOf(job.engine.options);
  let known: number | null = null;
  try {
    known = fromJob.kvBytesPerToken === null ? (agent.modelKvBytesPerToken?.(job.model) ?? null) : null;
  } catch {
    known = null; // a model the caller's table does not know
  }
  const bytes = known !== null ? { kvBytesPerToken: known, kvBytesSource: `the shape of ${job.model} known to kvbench (2 × layers × kv heads × head dim × 2 bytes, bf16)` } : fromJob;
  return { tokensPerBlock: kv.tokens_per_block, ...bytes };
}
