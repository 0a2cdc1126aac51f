import { AnyWorkload, parseOrThrow, SeedBatch, TOKENIZER, ValidationError, WorkloadDocument } from '@kvbench/common';
import type { SeedWorkload } from '@kvbench/common';
import type { WorkloadBatch, WorkloadPrompt } from '@kvbench/common';
import { checkScenario } from './scenario/document.js';
import { importedPromptId, requestId } from './ids.js';
import { countTokens } from './tokens.js';

export interface ParseOptions {
  /** Recount every native prompt's tokens and reject a wrong `tokens` (imported seed files are always counted). */
  verifyTokens?: boolean;
}

/**
 * A workload in either format: kvbench's native document (an object with `schema`) or the original
 * list of batches (`[{batch_prompts, context_tokens, scheduled_delay_ms}]`, or `{batches: [...]}`).
 * Throws ValidationError naming the offending field, e.g. `batches.2.requests.0.prompt_id`.
 */
export function parseWorkload(json: unknown, options: ParseOptions = {}): WorkloadDocument {
  if (Array.isArray(json)) return fromSeedFormat(parseOrThrow(seedBatches, json, 'workload (original list format)'));
  if (json !== null && typeof json === 'object') {
    if ('schema' in json) {
      const doc = parseOrThrow(WorkloadDocument, json, 'workload document');
      checkReferences(doc, options);
      return doc;
    }
    // SeedWorkload's `{batches: [...]}` form, parsed here rather than through the union so that
    // an error names the field (`batches.2.context_tokens`) instead of the union as a whole.
    if ('batches' in json) return fromSeedFormat(withPrefix('batches', () => parseOrThrow(seedBatches, json.batches, 'workload (original list format)')));
  }
  throw new ValidationError(
    'invalid workload: expected a kvbench workload document (with "schema") or the original list of batches',
    '(root)',
  );
}

/**
 * Any workload: a scenario document of token-id segments (version 2: multiturn, docqa, trace,
 * offload) or whatever parseWorkload reads (the original batches, native or in the original format).
 */
export function parseAnyWorkload(json: unknown, options: ParseOptions = {}): AnyWorkload {
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && 'schema' in json && (json as { version?: unknown }).version === 2) {
    const doc = parseOrThrow(AnyWorkload, json, 'workload document');
    if (doc.version === 2) checkScenario(doc);
    return doc;
  }
  return parseWorkload(json, options);
}

const seedBatches = SeedBatch.array().min(1);

function withPrefix<T>(prefix: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const field = err.field === '(root)' ? prefix : `${prefix}.${err.field}`;
    throw new ValidationError(err.message.replace(`: ${err.field}:`, `: ${field}:`), field, { cause: err.cause });
  }
}

/** What zod cannot see: ids unique and resolvable, batch indices in order, phases true to the data. */
function checkReferences(doc: WorkloadDocument, options: ParseOptions): void {
  const prompts = new Map<string, WorkloadPrompt>();
  doc.prompts.forEach((p, i) => {
    if (prompts.has(p.id)) fail(`prompts.${i}.id`, `duplicate prompt id '${p.id}'`);
    prompts.set(p.id, p);
    if (options.verifyTokens) {
      const actual = countTokens(p.text);
      if (actual !== p.tokens) fail(`prompts.${i}.tokens`, `says ${p.tokens} tokens, text has ${actual}`);
    }
  });
  const requestIds = new Set<string>();
  const used = new Set<string>();
  doc.batches.forEach((b, i) => {
    if (b.index !== i) fail(`batches.${i}.index`, `is ${b.index}, expected ${i}`);
    b.requests.forEach((r, j) => {
      const at = `batches.${i}.requests.${j}`;
      if (requestIds.has(r.request_id)) fail(`${at}.request_id`, `duplicate request id '${r.request_id}'`);
      requestIds.add(r.request_id);
      if (!prompts.has(r.prompt_id)) fail(`${at}.prompt_id`, `unknown prompt '${r.prompt_id}'`);
      const expected = used.has(r.prompt_id) ? 'reuse' : 'cold';
      if (r.phase !== expected) fail(`${at}.phase`, `is '${r.phase}' but the prompt's ${expected === 'cold' ? 'first' : 'repeated'} use is '${expected}'`);
      used.add(r.prompt_id);
    });
  });
}

function fail(field: string, message: string): never {
  throw new ValidationError(`invalid workload document: ${field}: ${message}`, field);
}

/**
 * The original format repeats full prompt text in every request; store each distinct text once
 * (exact match), count its tokens, and mark a request `reuse` when its text appeared before.
 */
function fromSeedFormat(seed: SeedWorkload): WorkloadDocument {
  const prompts: WorkloadPrompt[] = [];
  const byText = new Map<string, WorkloadPrompt>();
  const promptsPerContext = new Map<number, number>();
  const batchesPerContext = new Map<number, number>();
  const batches: WorkloadBatch[] = seed.map((sb, index) => {
    const context = sb.context_tokens;
    const batchInContext = batchesPerContext.get(context) ?? 0;
    batchesPerContext.set(context, batchInContext + 1);
    const requests = sb.batch_prompts.map((text, position) => {
      let prompt = byText.get(text);
      const phase = prompt ? ('reuse' as const) : ('cold' as const);
      if (!prompt) {
        const n = promptsPerContext.get(context) ?? 0;
        promptsPerContext.set(context, n + 1);
        prompt = { id: importedPromptId(context, n), context_tokens: context, tokens: countTokens(text), text };
        byText.set(text, prompt);
        prompts.push(prompt);
      }
      return { request_id: requestId(context, batchInContext, position), prompt_id: prompt.id, phase };
    });
    return { index, context_tokens: context, delay_ms: sb.scheduled_delay_ms, requests };
  });
  return { schema: 'kvbench.workload', version: 1, tokenizer: TOKENIZER, params: null, prompts, batches };
}
