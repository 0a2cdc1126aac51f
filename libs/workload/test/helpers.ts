import type { WorkloadDocument } from '@kvbench/common';
import { workloadRequests, type ReplayRequest } from '../src/index.js';

/** Requests of a document in replay order, with prompts resolved. */
export function requestsOf(doc: WorkloadDocument): ReplayRequest[] {
  return [...workloadRequests(doc)];
}

/** The prompts of one context in creation order; its pool is the first `prompt_pool_size`. */
export function promptsOfContext(doc: WorkloadDocument, context: number) {
  return doc.prompts.filter((p) => p.context_tokens === context);
}
