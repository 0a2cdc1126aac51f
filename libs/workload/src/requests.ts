import type { WorkloadDocument, WorkloadBatch, WorkloadPrompt, WorkloadRequest } from '@kvbench/common';

export interface ReplayRequest {
  batch: WorkloadBatch;
  request: WorkloadRequest;
  prompt: WorkloadPrompt;
}

/** Every request in replay order with its prompt resolved (what a runner sends). */
export function* workloadRequests(doc: WorkloadDocument): Generator<ReplayRequest> {
  const prompts = new Map(doc.prompts.map((p) => [p.id, p]));
  for (const batch of doc.batches) {
    for (const request of batch.requests) {
      const prompt = prompts.get(request.prompt_id);
      if (!prompt) throw new Error(`request ${request.request_id} refers to unknown prompt ${request.prompt_id}`);
      yield { batch, request, prompt };
    }
  }
}
