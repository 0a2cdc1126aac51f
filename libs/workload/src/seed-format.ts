import type { WorkloadDocument } from '@kvbench/common';
import { jsonStringBody } from './serialize.js';

/** One batch of the original format: every request's full prompt text, repeated per request. */
export interface SeedFormatBatch {
  batch_prompts: string[];
  context_tokens: number;
  scheduled_delay_ms: number;
}

/** The original list format. The strings are shared with `doc`, so this costs no text copies. */
export function toSeedFormat(doc: WorkloadDocument): SeedFormatBatch[] {
  const text = new Map(doc.prompts.map((p) => [p.id, p.text]));
  return doc.batches.map((b) => ({
    batch_prompts: b.requests.map((r) => text.get(r.prompt_id)!),
    context_tokens: b.context_tokens,
    scheduled_delay_ms: b.delay_ms,
  }));
}

/**
 * The original format as JSON text in pieces, laid out like Python's `json.dumps(indent=2)`.
 * Yielded piecewise because the whole file repeats prompt text per request and can exceed
 * what one JavaScript string may hold (about 512 MiB).
 */
export function* seedFormatChunks(doc: WorkloadDocument): Generator<string> {
  const batches = toSeedFormat(doc);
  yield '[';
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i]!;
    yield `${i > 0 ? ',' : ''}\n  {\n    "batch_prompts": [`;
    for (let j = 0; j < b.batch_prompts.length; j++) {
      // The text as its own piece, not copied into a new string per request.
      yield `${j > 0 ? ',' : ''}\n      "`;
      yield jsonStringBody(b.batch_prompts[j]!);
      yield '"';
    }
    yield `\n    ],\n    "context_tokens": ${b.context_tokens},\n    "scheduled_delay_ms": ${JSON.stringify(b.scheduled_delay_ms)}\n  }`;
  }
  yield '\n]\n';
}
