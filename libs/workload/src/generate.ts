import { parseOrThrow, ValidationError, WorkloadParams, TOKENIZER } from '@kvbench/common';
import type { WorkloadDocument, WorkloadBatch, WorkloadPrompt, WorkloadRequest } from '@kvbench/common';
import { distinctPromptCapacity, promptText } from './prompt-text.js';
import { freshPromptId, poolPromptId, requestId } from './ids.js';
import { scheduleRandom } from './rng.js';

/** Share of requests after `reuse_start_batch` that repeat a pool prompt (the original's reuse_ratio). */
export const REUSE_RATIO = 0.7;

/** Parameters as a caller gives them: only `contexts` is required, the rest default as in the original. */
export type WorkloadParamsInput = Pick<WorkloadParams, 'contexts'> & Partial<Omit<WorkloadParams, 'contexts'>>;

/**
 * The original generator's workload, with exact token counts. For each context (in order): a pool
 * of `prompt_pool_size` distinct prompts; `batches_per_context` batches of a size drawn from
 * `batch_sizes`; batches before `reuse_start_batch` walk the pool in order (the cursor carries
 * over between batches); later ones repeat a uniformly picked pool prompt with probability 0.7
 * and otherwise use a fresh, never-seen prompt. Same params, same document, byte for byte.
 */
export function generateWorkload(input: WorkloadParamsInput): WorkloadDocument {
  const p = parseOrThrow(WorkloadParams, input, 'workload parameters');
  const params: WorkloadParams = {
    contexts: [...p.contexts],
    batches_per_context: p.batches_per_context,
    batch_sizes: [...p.batch_sizes],
    prompt_pool_size: p.prompt_pool_size,
    reuse_start_batch: p.reuse_start_batch,
    delay_ms: p.delay_ms,
    seed: p.seed,
  };
  checkContexts(params);

  const random = scheduleRandom(params.seed);
  const prompts: WorkloadPrompt[] = [];
  const batches: WorkloadBatch[] = [];
  const used = new Set<string>();
  const newPrompt = (id: string, context: number): WorkloadPrompt => {
    const prompt = { id, context_tokens: context, tokens: context, text: promptText(params.seed, prompts.length, context) };
    prompts.push(prompt);
    return prompt;
  };
  const request = (context: number, batchInContext: number, position: number, prompt: WorkloadPrompt): WorkloadRequest => {
    const phase = used.has(prompt.id) ? 'reuse' : 'cold';
    used.add(prompt.id);
    return { request_id: requestId(context, batchInContext, position), prompt_id: prompt.id, phase };
  };

  for (const context of params.contexts) {
    const pool = Array.from({ length: params.prompt_pool_size }, (_, i) => newPrompt(poolPromptId(context, i), context));
    let cursor = 0;
    let fresh = 0;
    for (let b = 0; b < params.batches_per_context; b++) {
      const size = params.batch_sizes[Math.floor(random() * params.batch_sizes.length)]!;
      const requests: WorkloadRequest[] = [];
      for (let r = 0; r < size; r++) {
        let prompt: WorkloadPrompt;
        if (b < params.reuse_start_batch) prompt = pool[cursor++ % pool.length]!;
        else if (random() < REUSE_RATIO) prompt = pool[Math.floor(random() * pool.length)]!;
        else prompt = newPrompt(freshPromptId(context, fresh++), context);
        requests.push(request(context, b, r, prompt));
      }
      batches.push({ index: batches.length, context_tokens: context, delay_ms: params.delay_ms, requests });
    }
  }
  return { schema: 'kvbench.workload', version: 1, tokenizer: TOKENIZER, params, prompts, batches };
}

/** Contexts must be distinct (ids are keyed by context) and long enough to hold distinct prompts. */
function checkContexts(params: WorkloadParams): void {
  const seen = new Set<number>();
  const maxBatch = Math.max(...params.batch_sizes);
  const worstCasePrompts = params.contexts.length * (params.prompt_pool_size + params.batches_per_context * maxBatch);
  params.contexts.forEach((context, i) => {
    if (seen.has(context)) throw new ValidationError(`contexts.${i}: context ${context} is listed twice`, `contexts.${i}`);
    seen.add(context);
    if (distinctPromptCapacity(context) < worstCasePrompts) {
      throw new ValidationError(
        `contexts.${i}: ${context} tokens cannot hold ${worstCasePrompts} distinct prompts`,
        `contexts.${i}`,
      );
    }
  });
}
