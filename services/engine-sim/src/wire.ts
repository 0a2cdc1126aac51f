/**
 * trtllm-serve's OpenAI-compatible wire format: request parsing (run in the tokenizer worker,
 * off the event loop) and the JSON shapes of answers and stream chunks.
 */
import { z } from 'zod';

export type ApiKind = 'completions' | 'chat';

const StreamOptions = z.object({ include_usage: z.boolean().optional(), continuous_usage_stats: z.boolean().optional() }).loose();
const Common = {
  model: z.string().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
  max_completion_tokens: z.number().int().positive().nullable().optional(),
  stream: z.boolean().optional(),
  stream_options: StreamOptions.nullable().optional(),
  ignore_eos: z.boolean().optional(),
  n: z.literal(1).optional(),
  temperature: z.number().optional(),
  top_p: z.number().optional(),
};

export const CompletionBody = z
  .object({
    ...Common,
    prompt: z.union([
      z.string(),
      z.array(z.string()).length(1, 'the simulator takes one prompt per request'),
      // Token ids are held as 32-bit integers (Uint32Array): a larger id would alias another.
      z.array(z.number().int().nonnegative().max(0xffffffff, 'a token id fits 32 bits')).min(1),
    ]),
  })
  .loose();

const ContentPart = z.object({ type: z.string(), text: z.string().optional() }).loose();
export const ChatBody = z
  .object({
    ...Common,
    messages: z.array(z.object({ role: z.string(), content: z.union([z.string(), z.array(ContentPart), z.null()]) }).loose()).min(1),
  })
  .loose();

/** Default max_tokens when a request gives none (OpenAI's completions default; used for chat too, README). */
export const DEFAULT_MAX_TOKENS = 16;

export interface ParsedRequest {
  kind: ApiKind;
  model: string | undefined;
  /** Text to tokenize, or the token ids the client sent. */
  text: string | null;
  ids: number[] | null;
  maxTokens: number;
  stream: boolean;
  includeUsage: boolean;
}

/**
 * The simulator's chat template: "role: content" lines and a closing "assistant:". Deterministic
 * and documented; it is not the model's real template, so chat prompt_tokens differ from a real
 * engine's by the template tokens.
 */
export function chatText(messages: z.infer<typeof ChatBody>['messages']): string {
  const parts = messages.map((m) => {
    const c = typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join('');
    return `${m.role}: ${c}\n`;
  });
  return parts.join('') + 'assistant:';
}

export class BadRequest extends Error {}

export function parseRequestBody(kind: ApiKind, raw: string): ParsedRequest {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new BadRequest(`request body is not JSON: ${(err as Error).message}`);
  }
  const schema = kind === 'completions' ? CompletionBody : ChatBody;
  const r = schema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new BadRequest(`${i.path.map(String).join('.') || '(body)'}: ${i.message}`);
  }
  const b = r.data;
  const maxTokens = b.max_tokens ?? b.max_completion_tokens ?? DEFAULT_MAX_TOKENS;
  let text: string | null = null;
  let ids: number[] | null = null;
  if (kind === 'completions') {
    const p = (b as z.infer<typeof CompletionBody>).prompt;
    if (typeof p === 'string') text = p;
    else if (typeof p[0] === 'string') text = p[0] as string;
    else ids = p as number[];
  } else {
    text = chatText((b as z.infer<typeof ChatBody>).messages);
  }
  return { kind, model: b.model, text, ids, maxTokens, stream: b.stream ?? false, includeUsage: b.stream_options?.include_usage ?? false };
}

/** Labels every simulator answer carries. */
export interface SimLabels {
  engine: 'sim';
  simulated: true;
  profile: string;
  time_scale: number;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export function usage(prompt: number, completion: number, cached: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } };
}

export interface ChunkContext {
  kind: ApiKind;
  id: string;
  created: number;
  model: string;
  labels: SimLabels;
}

/** One streamed chunk carrying `text` (finish_reason set on the last). */
export function textChunk(c: ChunkContext, text: string, finishReason: 'length' | null): string {
  const choice =
    c.kind === 'completions'
      ? { index: 0, text, token_ids: null, logprobs: null, finish_reason: finishReason, stop_reason: null }
      : { index: 0, delta: { content: text }, logprobs: null, finish_reason: finishReason, stop_reason: null };
  return sse({ id: c.id, object: c.kind === 'completions' ? 'text_completion' : 'chat.completion.chunk', created: c.created, model: c.model, choices: [choice], usage: null, ...c.labels });
}

/** Chat streams open with the assistant role (no text). */
export function roleChunk(c: ChunkContext): string {
  return sse({
    id: c.id,
    object: 'chat.completion.chunk',
    created: c.created,
    model: c.model,
    choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
    usage: null,
    ...c.labels,
  });
}

export function usageChunk(c: ChunkContext, u: Usage): string {
  return sse({ id: c.id, object: c.kind === 'completions' ? 'text_completion' : 'chat.completion.chunk', created: c.created, model: c.model, choices: [], usage: u, ...c.labels });
}

export const DONE = 'data: [DONE]\n\n';

export function sse(obj: unknown): string {
  return `data: ${JSON.stringify(obj)}\n\n`;
}

export function fullResponse(c: ChunkContext, text: string, u: Usage): Record<string, unknown> {
  const choice =
    c.kind === 'completions'
      ? { index: 0, text, token_ids: null, logprobs: null, finish_reason: 'length', stop_reason: null }
      : { index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: 'length', stop_reason: null };
  return { id: c.id, object: c.kind === 'completions' ? 'text_completion' : 'chat.completion', created: c.created, model: c.model, choices: [choice], usage: u, ...c.labels };
}

/** trtllm-serve's error body (OpenAI ErrorResponse). */
export function errorBody(status: number, message: string, labels?: SimLabels): Record<string, unknown> {
  return { object: 'error', message, type: status === 400 ? 'BadRequestError' : status === 404 ? 'NotFoundError' : 'InternalServerError', param: null, code: status, ...labels };
}
