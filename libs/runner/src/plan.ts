/**
 * A workload as the scheduler sees it: every request with what releases it. One shape for every
 * kind: the original batches are requests released by a barrier (every request of the previous
 * batch completed, then the batch's delay), scenario requests by a time or by an earlier
 * request's completion plus a delay.
 */
import type { AnyWorkload, Job, Sample, ScenarioWorkload, WorkloadDocument, WorkloadPrompt } from '@kvbench/common';
import { PromptTokens } from '@kvbench/workload';

export interface PlannedRequest {
  /** Position in the workload's order. */
  index: number;
  /**
   * Released `delayMs` (modelled) after every request in `after` has completed; with `after`
   * empty, `delayMs` after the run's start.
   */
  after: readonly number[];
  delayMs: number;
  /** Key of the body cache: requests of the same prompt and output length share one body. */
  bodyKey: string;
  body(): Buffer;
  /** Token-id prompts: the count the engine's usage.prompt_tokens must equal; null for text. */
  expectPromptTokens: number | null;
  /** The sample's identity (everything that does not come from measuring). */
  identity: Pick<Sample, 'request_id' | 'batch_index' | 'index_in_batch' | 'prompt_id' | 'context_tokens' | 'phase' | 'prompt_tokens_client' | 'scenario'>;
}

export interface Plan {
  requests: PlannedRequest[];
  /** Most requests in flight at once. */
  concurrency: number;
}

/** The JSON body of one text request. max_tokens is the job's output length — never max_seq_len. */
export function completionBody(job: Job, prompt: WorkloadPrompt): Buffer {
  return Buffer.from(JSON.stringify(bodyFields(job, prompt.text, job.output_tokens)));
}

function bodyFields(job: Job, prompt: unknown, maxTokens: number): Record<string, unknown> {
  return {
    model: job.model,
    prompt,
    max_tokens: maxTokens,
    stream: true,
    stream_options: { include_usage: true },
    // Every request generates exactly its output length, so runs are comparable.
    ignore_eos: true,
    temperature: job.temperature,
    top_p: job.top_p,
  };
}

/**
 * The body of a token-id request, with the same keys in the same order as a text body. The ids
 * are spliced in as text: JSON.stringify of a 128K-element array would first build it as a JS
 * array of numbers.
 */
export function tokenIdBody(job: Job, idsJson: string, maxTokens: number): Buffer {
  const json = JSON.stringify(bodyFields(job, 0, maxTokens));
  const at = json.indexOf('"prompt":0') + '"prompt":'.length;
  return Buffer.from(json.slice(0, at) + idsJson + json.slice(at + 1));
}

export function planWorkload(workload: AnyWorkload, job: Job): Plan {
  return workload.version === 2 ? planScenario(workload, job) : planBatches(workload, job);
}

/** The original batches: each waits for the whole previous batch, as the original tool did. */
function planBatches(workload: WorkloadDocument, job: Job): Plan {
  const prompts = new Map(workload.prompts.map((p) => [p.id, p]));
  const requests: PlannedRequest[] = [];
  let previous: number[] = [];
  for (const batch of workload.batches) {
    const current: number[] = [];
    batch.requests.forEach((r, index) => {
      const prompt = prompts.get(r.prompt_id);
      if (!prompt) throw new Error(`workload batch ${batch.index} refers to unknown prompt '${r.prompt_id}'`);
      current.push(requests.length);
      requests.push({
        index: requests.length,
        after: previous,
        delayMs: batch.delay_ms,
        bodyKey: prompt.id,
        body: () => completionBody(job, prompt),
        expectPromptTokens: null,
        identity: {
          request_id: r.request_id,
          batch_index: batch.index,
          index_in_batch: index,
          prompt_id: prompt.id,
          context_tokens: batch.context_tokens,
          phase: r.phase,
          prompt_tokens_client: prompt.tokens,
        },
      });
    });
    previous = current;
  }
  return { requests, concurrency: Math.max(1, job.max_batch_size) };
}

function planScenario(workload: ScenarioWorkload, job: Job): Plan {
  const tokens = new PromptTokens(workload);
  const prompts = new Map(workload.prompts.map((p) => [p.id, p]));
  const indexOf = new Map<string, number>();
  const sweep = workload.sweep ? { sweep_id: workload.sweep.id, sweep_point: workload.sweep.point } : {};
  const requests = workload.requests.map((r, index): PlannedRequest => {
    indexOf.set(r.request_id, index);
    const prompt = prompts.get(r.prompt_id);
    if (!prompt) throw new Error(`workload request ${r.request_id} refers to unknown prompt '${r.prompt_id}'`);
    const maxTokens = r.output_tokens ?? job.output_tokens;
    const after = r.release.type === 'after' ? [indexOf.get(r.release.request_id)!] : [];
    return {
      index,
      after,
      delayMs: r.release.type === 'after' ? r.release.delay_ms : r.release.at_ms,
      bodyKey: `${prompt.id}/${maxTokens}`,
      body: () => tokenIdBody(job, tokens.json(prompt), maxTokens),
      expectPromptTokens: prompt.tokens,
      identity: {
        request_id: r.request_id,
        batch_index: 0,
        index_in_batch: index,
        prompt_id: prompt.id,
        context_tokens: prompt.tokens,
        phase: r.phase,
        prompt_tokens_client: prompt.tokens,
        scenario: { ...r.tags, ...sweep, release: r.release.type === 'after' ? 'completion' : 'time' },
      },
    };
  });
  const cap = workload.max_concurrency ?? Infinity;
  return { requests, concurrency: Math.max(1, Math.min(job.max_batch_size, cap)) };
}
