import { createHash } from 'node:crypto';
import type { AnyWorkload, WorkloadDocument, WorkloadParams, WorkloadSummary } from '@kvbench/common';
import { serializeScenarioParts } from './scenario/document.js';
import { lengthDistribution, requestPromptLengths } from './lengths.js';

/**
 * Canonical JSON of a native document: fixed key order, one prompt or batch per line (so `head`
 * shows the structure), no timestamps. Same document, same bytes; the workload id hashes this.
 */
export function serializeWorkload(doc: AnyWorkload): string {
  return serializeWorkloadParts(doc).join('');
}

/**
 * The canonical serialization as pieces whose concatenation is serializeWorkload's result. Hashing
 * and writing go piece by piece: one string of the whole document (~50 MB for the documented
 * workload) would be a second full copy of every prompt, and large fresh strings are slow to make.
 */
export function serializeWorkloadParts(doc: AnyWorkload): string[] {
  return doc.version === 2 ? serializeScenarioParts(doc) : serializeLegacyParts(doc);
}

function serializeLegacyParts(doc: WorkloadDocument): string[] {
  const head = {
    schema: doc.schema,
    version: doc.version,
    tokenizer: doc.tokenizer,
    params: doc.params === null ? null : canonicalParams(doc.params),
  };
  const parts: string[] = [JSON.stringify(head).slice(0, -1), ',\n"prompts":[\n'];
  doc.prompts.forEach((p, i) => {
    const fields = JSON.stringify({ id: p.id, context_tokens: p.context_tokens, tokens: p.tokens, text: '' }).slice(0, -3);
    // The text is its own part (not concatenated), so hashing and writing read it in place.
    parts.push(i > 0 ? ',\n' + fields : fields, '"', jsonStringBody(p.text), '"}');
  });
  parts.push('\n],\n"batches":[\n');
  doc.batches.forEach((b, i) => {
    if (i > 0) parts.push(',\n');
    const requests = b.requests.map((r) => ({ request_id: r.request_id, prompt_id: r.prompt_id, phase: r.phase }));
    parts.push(JSON.stringify({ index: b.index, context_tokens: b.context_tokens, delay_ms: b.delay_ms, requests }));
  });
  parts.push('\n]}\n');
  return parts;
}

/** Characters JSON.stringify would escape (controls, quote, backslash, lone surrogate halves). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify(text) without its quotes; `text` itself when nothing needs escaping (generated prompts). */
export function jsonStringBody(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text).slice(1, -1) : text;
}

/**
 * Calls `use` with each part's UTF-8 bytes, encoded into one buffer reused from part to part:
 * a fresh large buffer or string per part costs page faults that dominated hashing and writing
 * when measured. The buffer is this call's own, so concurrent calls cannot overwrite each other;
 * `use` must be done with the bytes when it returns (or its promise settles).
 */
export async function forEachPartBytes(parts: Iterable<string>, use: (bytes: Uint8Array) => void | Promise<void>): Promise<void> {
  let buffer = Buffer.alloc(1 << 16);
  for (const part of parts) {
    if (buffer.length < part.length * 3) buffer = Buffer.alloc(Math.max(part.length * 3, buffer.length * 2));
    await use(buffer.subarray(0, buffer.write(part, 0, 'utf8')));
  }
}

/** Synchronous callers cannot interleave, so they share one buffer. */
let syncScratch = Buffer.alloc(1 << 16);

/** Same as forEachPartBytes, synchronously. */
function forEachPartBytesSync(parts: Iterable<string>, use: (bytes: Uint8Array) => void): void {
  for (const part of parts) {
    if (syncScratch.length < part.length * 3) syncScratch = Buffer.alloc(Math.max(part.length * 3, syncScratch.length * 2));
    use(syncScratch.subarray(0, syncScratch.write(part, 0, 'utf8')));
  }
}

function canonicalParams(p: WorkloadParams): WorkloadParams {
  return {
    contexts: p.contexts,
    batches_per_context: p.batches_per_context,
    batch_sizes: p.batch_sizes,
    prompt_pool_size: p.prompt_pool_size,
    reuse_start_batch: p.reuse_start_batch,
    delay_ms: p.delay_ms,
    seed: p.seed,
  };
}

/** `wl-` + the first 16 hex digits of the sha256 of the canonical serialization. */
export function workloadIdOfText(serialized: string | readonly string[]): string {
  return hashAndSize(serialized).id;
}

function hashAndSize(serialized: string | readonly string[]): { id: string; bytes: number } {
  const hash = createHash('sha256');
  let bytes = 0;
  forEachPartBytesSync(typeof serialized === 'string' ? [serialized] : serialized, (b) => {
    hash.update(b);
    bytes += b.length;
  });
  return { id: 'wl-' + hash.digest('hex').slice(0, 16), bytes };
}

/** Content-derived id: the same workload has the same id wherever it is generated or uploaded. */
export function workloadId(doc: AnyWorkload): string {
  return workloadIdOfText(serializeWorkloadParts(doc));
}

/** Requests of either document (batches' requests, or the scenario's). */
export function requestCount(doc: AnyWorkload): number {
  return doc.version === 2 ? doc.requests.length : doc.batches.reduce((n, b) => n + b.requests.length, 0);
}

/** The common WorkloadSummary plus token totals (what the CLI prints). */
export interface WorkloadStats extends WorkloadSummary {
  /** Tokens of all requests together: what the engine is asked to prefill, repeats included. */
  request_tokens: number;
  /** Tokens of the distinct prompts. */
  prompt_tokens: number;
}

/** What a workload holds, without its id and size (which need the serialization). */
export type WorkloadCounts = Omit<WorkloadStats, 'id' | 'bytes'>;

export function countWorkload(doc: AnyWorkload): WorkloadCounts {
  if (doc.version === 2) {
    const tokens = new Map(doc.prompts.map((p) => [p.id, p.tokens]));
    let requestTokens = 0;
    for (const r of doc.requests) requestTokens += tokens.get(r.prompt_id) ?? 0;
    return {
      params: null,
      prompts: doc.prompts.length,
      requests: doc.requests.length,
      batches: 0,
      contexts: null,
      prompt_lengths: lengthDistribution(requestPromptLengths(doc)),
      kind: doc.kind,
      request_tokens: requestTokens,
      prompt_tokens: distinctScenarioTokens(doc, tokens),
    };
  }
  const tokensById = new Map(doc.prompts.map((p) => [p.id, p.tokens]));
  let requests = 0;
  let requestTokens = 0;
  for (const b of doc.batches) {
    for (const r of b.requests) {
      requests++;
      requestTokens += tokensById.get(r.prompt_id) ?? 0;
    }
  }
  return {
    params: doc.params,
    prompts: doc.prompts.length,
    requests,
    batches: doc.batches.length,
    contexts: [...new Set(doc.batches.map((b) => b.context_tokens))],
    prompt_lengths: lengthDistribution(requestPromptLengths(doc)),
    request_tokens: requestTokens,
    prompt_tokens: doc.prompts.reduce((s, p) => s + p.tokens, 0),
  };
}

/**
 * Distinct tokens of a scenario: each request's tokens past its reusable prefix (the tokens an
 * earlier request already sent, exact to the token: the builder's trie of segment paths), summed.
 * That is the size of the prefix tree of every prompt, what a cache that forgot nothing would hold;
 * counting segments whole would count a partial last block as full and a segment met at two
 * different places in a prompt once.
 */
function distinctScenarioTokens(doc: Extract<AnyWorkload, { version: 2 }>, tokens: Map<string, number>): number {
  let n = 0;
  for (const r of doc.requests) {
    const t = tokens.get(r.prompt_id) ?? 0;
    n += t - Math.min(t, r.tags.reusable_prefix_tokens ?? 0);
  }
  return n;
}

/** `serialized`: the document's serializeWorkload text or parts, when the caller already has them. */
export function summarizeWorkload(
  doc: AnyWorkload,
  serialized: string | readonly string[] = serializeWorkloadParts(doc),
): WorkloadStats {
  const { id, bytes } = hashAndSize(serialized);
  const c = countWorkload(doc);
  // Key order as in the common WorkloadSummary, then the token totals.
  return {
    id, params: c.params, prompts: c.prompts, requests: c.requests, batches: c.batches, contexts: c.contexts, prompt_lengths: c.prompt_lengths, bytes,
    ...(c.kind !== undefined ? { kind: c.kind } : {}),
    request_tokens: c.request_tokens, prompt_tokens: c.prompt_tokens,
  };
}
