import type { Job } from '@kvbench/common';
import type { EngineAdapter } from './adapter.js';
import { openaiAdapter } from './openai.js';
import { simAdapter } from './sim.js';
import { trtllmAdapter } from './trtllm.js';

export type { AdapterContext, EngineAdapter } from './adapter.js';

const ADAPTERS: Record<Job['engine']['kind'], EngineAdapter> = { sim: simAdapter, trtllm: trtllmAdapter, openai: openaiAdapter };

/** The adapter of a job's engine kind. */
export function adapterFor(kind: Job['engine']['kind']): EngineAdapter {
  return ADAPTERS[kind];
}
