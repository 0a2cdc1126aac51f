/**
 * Replays a workload against an OpenAI-compatible /v1/completions endpoint:
 * batches in order, each after its scheduled delay; a batch's requests run
 * concurrently, at most max_batch_size in flight. Every request's clock starts
 * when its batch is scheduled — a request that waits for a free slot has that
 * wait inside its TTFT, as a user would.
 */
import type { Job, Sample, WorkloadDocument, WorkloadPrompt } from '@kvbench/common';
import { now, secondsBetween, type Instant } from './clock.js';
import { streamCompletion, type CompletionOutcome } from './completion.js';
import type { AnyAgent } from './http.js';

export interface CompletedRequest {
  sample: Sample;
  outcome: CompletionOutcome;
  scheduledAt: Instant;
}

export interface ReplayOptions {
  workload: WorkloadDocument;
  job: Job;
  /** Engine base URL (…/v1/completions is appended). */
  baseUrl: URL;
  agent: AnyAgent;
  requestTimeoutMs: number;
  /** Engine time scale S: modelled seconds = measured seconds / S (1 for real engines). */
  timeScale: number;
  /** t = 0 of the run; scheduled_at_s is measured from here. */
  runStart: Instant;
  /** Called once per request as it completes (in completion order). */
  onComplete(done: CompletedRequest): void;
  /** Extra headers on every request (TensorRT-LLM main: X-TRTLLM-return-metrics). */
  requestHeaders?: Record<string, string>;
  /** Stop dispatching further batches when this returns a reason (engine died, too many failures). */
  stopReason?(): string | null;
  signal?: AbortSignal;
}

/** The JSON body of one request. max_tokens is the job's output length — never max_seq_len. */
export function completionBody(job: Job, prompt: WorkloadPrompt): Buffer {
  return Buffer.from(
    JSON.stringify({
      model: job.model,
      prompt: prompt.text,
      max_tokens: job.output_tokens,
      stream: true,
      stream_options: { include_usage: true },
      // Every request generates exactly output_tokens, so runs are comparable.
      ignore_eos: true,
      temperature: job.temperature,
      top_p: job.top_p,
    }),
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function replayWorkload(opts: ReplayOptions): Promise<{ completed: number; stoppedEarly: string | null }> {
  const { workload, job, timeScale } = opts;
  const prompts = new Map(workload.prompts.map((p) => [p.id, p]));
  // Same prompt → same body: serialize each distinct prompt once.
  const bodies = new Map<string, Buffer>();
  const url = new URL('v1/completions', opts.baseUrl.href.endsWith('/') ? opts.baseUrl : new URL(opts.baseUrl.href + '/'));
  const limit = Math.max(1, job.max_batch_size);
  const scaled = (s: number) => s / timeScale;
  let completed = 0;

  for (const batch of workload.batches) {
    const stop = opts.stopReason?.();
    if (stop) return { completed, stoppedEarly: stop };
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');

    // Build every body before the scheduled moment so serialization is not inside TTFT.
    const reqs = batch.requests.map((r, index) => {
      const prompt = prompts.get(r.prompt_id);
      if (!prompt) throw new Error(`workload batch ${batch.index} refers to unknown prompt '${r.prompt_id}'`);
      let body = bodies.get(prompt.id);
      if (!body) bodies.set(prompt.id, (body = completionBody(job, prompt)));
      return { r, index, prompt, body };
    });

    // A time-scaled simulator runs S times faster; so does the schedule.
    await sleep(batch.delay_ms * timeScale, opts.signal);
    const scheduledAt = now();
    const scheduledAtS = scaled(secondsBetween(opts.runStart, scheduledAt));

    let next = 0;
    const worker = async () => {
      while (next < reqs.length) {
        const { r, index, prompt, body } = reqs[next++]!;
        const outcome = await streamCompletion({
          url,
          agent: opts.agent,
          body,
          timeoutMs: opts.requestTimeoutMs,
          ...(opts.requestHeaders ? { headers: opts.requestHeaders } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        const itl: number[] = [];
        for (let i = 1; i < outcome.textChunkTimes.length; i++) {
          itl.push(scaled(secondsBetween(outcome.textChunkTimes[i - 1]!, outcome.textChunkTimes[i]!)));
        }
        const sample: Sample = {
          request_id: r.request_id,
          batch_index: batch.index,
          index_in_batch: index,
          prompt_id: prompt.id,
          context_tokens: batch.context_tokens,
          phase: r.phase,
          scheduled_at_s: scheduledAtS,
          ttft_s: outcome.firstTextAt === null ? null : scaled(secondsBetween(scheduledAt, outcome.firstTextAt)),
          latency_s: outcome.ok ? scaled(secondsBetween(scheduledAt, outcome.endAt)) : null,
          itl_s: itl,
          prompt_tokens_client: prompt.tokens,
          prompt_tokens_server: outcome.usage?.prompt_tokens ?? null,
          completion_tokens_client: outcome.textChunkTimes.length,
          completion_tokens_server: outcome.usage?.completion_tokens ?? null,
          cached_tokens: outcome.usage?.cached_tokens ?? null,
          ok: outcome.ok,
          error: outcome.error,
          server: null,
        };
        completed++;
        opts.onComplete({ sample, outcome, scheduledAt });
      }
    };
    await Promise.all(Array.from({ length: Math.min(limit, reqs.length) }, worker));
  }
  return { completed, stoppedEarly: null };
}
