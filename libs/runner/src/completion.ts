/**
 * One streaming completion request, timed on the agent's monotonic clock.
 * Never throws: a failed request (HTTP error, broken stream, timeout) resolves
 * with ok=false and the reason, so one bad request fails that sample, not the run.
 */
import http from 'node:http';
import https from 'node:https';
import { now, type Instant } from './clock.js';
import type { AnyAgent } from './http.js';
import { SseParser } from './sse.js';

export interface ServerUsage {
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cached_tokens: number | null;
}

export interface CompletionOutcome {
  ok: boolean;
  error: string | null;
  httpStatus: number | null;
  /** When the request body had been handed to the socket. */
  sentAt: Instant | null;
  /** Arrival of the first chunk that carried generated text. */
  firstTextAt: Instant | null;
  /** End of stream (or of the failure). */
  endAt: Instant;
  /** Arrival time of every text-carrying chunk, in order (first included). */
  textChunkTimes: Instant[];
  usage: ServerUsage | null;
  /** The `id` the server gave the completion (joins /perf_metrics where the engine uses it). */
  responseId: string | null;
}

export interface CompletionRequest {
  /** Full URL of /v1/completions. */
  url: URL;
  agent: AnyAgent;
  /** Pre-serialized JSON body (serialized before the batch's scheduled time). */
  body: Buffer;
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * Token-id prompts: the engine counts exactly these tokens, so a usage.prompt_tokens that
   * differs means it did not serve the prompt that was sent, and the request fails.
   */
  expectPromptTokens?: number;
}

/** Text of an OpenAI streaming chunk: completions (`text`) or chat (`delta.content`). */
function chunkText(obj: Record<string, unknown>): string {
  const choices = obj['choices'];
  if (!Array.isArray(choices) || choices.length === 0) return '';
  const c = choices[0] as Record<string, unknown>;
  if (typeof c['text'] === 'string') return c['text'];
  const delta = c['delta'] as Record<string, unknown> | undefined;
  if (delta && typeof delta['content'] === 'string') return delta['content'];
  return '';
}

function readUsage(u: unknown): ServerUsage | null {
  if (!u || typeof u !== 'object') return null;
  const o = u as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const details = o['prompt_tokens_details'] as Record<string, unknown> | null | undefined;
  return {
    prompt_tokens: num(o['prompt_tokens']),
    completion_tokens: num(o['completion_tokens']),
    cached_tokens: details ? num(details['cached_tokens']) : null,
  };
}

export function streamCompletion(req: CompletionRequest): Promise<CompletionOutcome> {
  const mod = req.url.protocol === 'https:' ? https : http;
  return new Promise<CompletionOutcome>((resolve) => {
    const out: CompletionOutcome = {
      ok: false,
      error: null,
      httpStatus: null,
      sentAt: null,
      firstTextAt: null,
      endAt: 0n,
      textChunkTimes: [],
      usage: null,
      responseId: null,
    };
    let settled = false;
    const finish = (error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      out.endAt = now();
      if (error === null && out.firstTextAt === null) error = 'stream finished without any generated text';
      const counted = out.usage?.prompt_tokens;
      if (error === null && req.expectPromptTokens !== undefined && counted != null && counted !== req.expectPromptTokens) {
        error = `engine counted ${counted} prompt tokens, kvbench sent ${req.expectPromptTokens} token ids`;
      }
      out.ok = error === null;
      out.error = error;
      resolve(out);
    };

    const r = mod.request(req.url, {
      method: 'POST',
      agent: req.agent,
      signal: req.signal,
      headers: {
        'content-type': 'application/json',
        'content-length': req.body.length,
        accept: 'text/event-stream',
      },
    });
    const timer = setTimeout(() => {
      finish(`request timed out after ${req.timeoutMs} ms`);
      r.destroy();
    }, req.timeoutMs);

    r.on('error', (err) => finish(`request failed: ${err.message}`));
    r.on('response', (res) => {
      out.httpStatus = res.statusCode ?? null;
      if (res.statusCode !== 200) {
        // Keep a short excerpt of the error body; the engine's message says why.
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (body.length < 2000) body += d;
        });
        res.on('end', () => finish(`HTTP ${res.statusCode}: ${body.trim().slice(0, 500)}`));
        res.on('error', (err) => finish(`HTTP ${res.statusCode}: ${err.message}`));
        return;
      }
      const parser = new SseParser();
      let done = false;
      const handle = (payloads: string[], t: Instant) => {
        for (const data of payloads) {
          if (settled) return;
          if (data === '[DONE]') {
            done = true;
            continue;
          }
          let obj: Record<string, unknown>;
          try {
            obj = JSON.parse(data) as Record<string, unknown>;
          } catch {
            finish(`malformed stream chunk: ${data.slice(0, 200)}`);
            res.destroy();
            return;
          }
          if (obj['error']) {
            const e = obj['error'] as Record<string, unknown> | string;
            finish(`engine error in stream: ${typeof e === 'string' ? e : String(e['message'] ?? JSON.stringify(e))}`);
            res.destroy();
            return;
          }
          if (out.responseId === null && typeof obj['id'] === 'string') out.responseId = obj['id'];
          if (chunkText(obj).length > 0) {
            if (out.firstTextAt === null) out.firstTextAt = t;
            out.textChunkTimes.push(t);
          }
          if (obj['usage']) out.usage = readUsage(obj['usage']) ?? out.usage;
        }
      };
      res.on('data', (chunk: Buffer) => {
        // Timestamp first: the chunk became readable now, whatever parsing costs.
        const t = now();
        handle(parser.push(chunk), t);
      });
      res.on('end', () => {
        handle(parser.end(), now());
        finish(done ? null : 'stream ended before data: [DONE] (connection closed mid-stream)');
      });
      res.on('error', (err) => finish(`stream broken: ${err.message}`));
      res.on('aborted', () => finish('stream broken: connection aborted by the server'));
      res.on('close', () => finish(done ? null : 'stream broken: connection closed before data: [DONE]'));
    });
    r.end(req.body, () => {
      out.sentAt = now();
    });
  });
}
