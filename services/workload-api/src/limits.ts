import { LimitError, type WorkloadDocument, type WorkloadParams } from '@kvbench/common';
import type { Limits } from './config.js';
import { SizeLimitError } from './http-errors.js';

function over(value: number, limit: number, name: string, field: string): void {
  if (value > limit) throw new LimitError(`${field} is ${value}, more than ${name} (${limit})`, field, limit);
}

/**
 * Checks generation parameters before any text is generated, so an oversized request costs nothing.
 * The byte estimate is a lower bound (every token is at least one byte, and each context holds at
 * least min(pool, requests) distinct prompts), so it never rejects a workload that would fit.
 */
export function checkParamsLimits(p: WorkloadParams, limits: Limits): void {
  p.contexts.forEach((c, i) => over(c, limits.maxContextTokens, 'MAX_CONTEXT_TOKENS', `params.contexts.${i}`));
  p.batch_sizes.forEach((b, i) => over(b, limits.maxBatchSize, 'MAX_BATCH_SIZE', `params.batch_sizes.${i}`));
  over(p.prompt_pool_size, limits.maxPoolSize, 'MAX_POOL_SIZE', 'params.prompt_pool_size');
  const batches = p.contexts.length * p.batches_per_context;
  if (batches > limits.maxBatches) {
    throw new LimitError(
      `contexts × batches_per_context is ${batches} batches, more than MAX_BATCHES (${limits.maxBatches})`,
      'params.batches_per_context',
      limits.maxBatches,
    );
  }
  const minRequestsPerContext = p.batches_per_context * p.batch_sizes.reduce((m, b) => Math.min(m, b), Infinity);
  const minBytes = p.contexts.reduce((sum, c) => sum + c * Math.min(p.prompt_pool_size, minRequestsPerContext), 0);
  if (minBytes > limits.maxWorkloadBytes) {
    throw new SizeLimitError(
      `these parameters make a workload of at least ${minBytes} bytes, more than MAX_WORKLOAD_BYTES (${limits.maxWorkloadBytes})`,
      'params',
      limits.maxWorkloadBytes,
    );
  }
}

/** Checks an uploaded (already parsed, native) document; fields are named by their native path. */
export function checkDocumentLimits(doc: WorkloadDocument, limits: Limits): void {
  over(doc.batches.length, limits.maxBatches, 'MAX_BATCHES', 'document.batches');
  doc.batches.forEach((b, i) => {
    over(b.context_tokens, limits.maxContextTokens, 'MAX_CONTEXT_TOKENS', `document.batches.${i}.context_tokens`);
    over(b.requests.length, limits.maxBatchSize, 'MAX_BATCH_SIZE', `document.batches.${i}.requests`);
  });
  doc.prompts.forEach((p, i) => over(p.tokens, limits.maxContextTokens, 'MAX_CONTEXT_TOKENS', `document.prompts.${i}.tokens`));
}

/** The serialized document, whether generated or uploaded, must fit MAX_WORKLOAD_BYTES. */
export function checkWorkloadBytes(bytes: number, limits: Limits, field: string): void {
  if (bytes > limits.maxWorkloadBytes) {
    throw new SizeLimitError(
      `the workload document is ${bytes} bytes, more than MAX_WORKLOAD_BYTES (${limits.maxWorkloadBytes})`,
      field,
      limits.maxWorkloadBytes,
    );
  }
}
