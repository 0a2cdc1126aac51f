import { CannotRunError } from './errors.js';
import type { EngineKind, KvOverrides } from './schemas/job.js';
import { requiredGpuKvTokens, resolveKvConfig } from './schemas/presets.js';
import type { AnyWorkload } from './schemas/workload.js';

/**
 * The checks a run must pass before anything starts, in one place: the CLI (`kvbench bench`)
 * applies them before it launches an engine and POST /runs before it queues a job, so both refuse
 * the same runs with the same message. Each failure names the field to change and the value that works.
 */

export interface RunPlan {
  workload: AnyWorkload;
  system_label: string;
  engine: { kind: EngineKind; url?: string | undefined };
  config_module: string;
  overrides: KvOverrides;
  max_seq_len: number;
  output_tokens: number;
}

/** The request needing the longest sequence: its prompt and output tokens (a scenario request may set its own output). */
export function largestRequest(workload: AnyWorkload, outputTokens: number): { promptTokens: number; outputTokens: number } {
  const tokens = new Map<string, number>(workload.prompts.map((p) => [p.id, p.tokens]));
  const requests = workload.version === 2 ? workload.requests : workload.batches.flatMap((b) => b.requests);
  let best = { promptTokens: 0, outputTokens };
  for (const r of requests) {
    const out = ('output_tokens' in r && typeof r.output_tokens === 'number' ? r.output_tokens : undefined) ?? outputTokens;
    const p = tokens.get(r.prompt_id) ?? 0;
    if (p + out > best.promptTokens + best.outputTokens) best = { promptTokens: p, outputTokens: out };
  }
  return best;
}

/** The CLI flag of a KV override for a system label (bench takes --pcie_* / --c2c_* for the original's two). */
function overrideFlag(label: string, key: string): string {
  return label === 'pcie' || label === 'c2c' ? `--${label}_${key}` : `--${key}`;
}

/** Throws CannotRunError (a ValidationError) for the first check the plan fails. */
export function checkRunPlan(plan: RunPlan): void {
  if (plan.engine.kind === 'openai' && !plan.engine.url) {
    throw new CannotRunError(
      'engine kind "openai" (vLLM, SGLang) is attached by URL: give engine.url (--engine_url)',
      'engine.url',
      undefined,
    );
  }
  const largest = largestRequest(plan.workload, plan.output_tokens);
  const total = largest.promptTokens + largest.outputTokens;
  // The KV pool is TensorRT-LLM's kv_cache_config (and the simulator's model of it); an attached
  // OpenAI-compatible server sizes its own cache.
  if (plan.engine.kind !== 'openai') {
    const kv = resolveKvConfig(plan.config_module, plan.overrides);
    const needed = requiredGpuKvTokens(kv, total);
    if (needed !== null) {
      throw new CannotRunError(
        `the GPU KV pool of ${plan.config_module} (${kv.gpu_kv_max_tokens} tokens) cannot hold this workload's largest request ` +
          `(${total} tokens with output): TensorRT-LLM reduces max_seq_len to what the pool holds and refuses longer requests. ` +
          `Give the GPU pool at least ${needed} tokens with ${overrideFlag(plan.system_label, 'gpu_kv_max_tokens')} ${needed} ` +
          `(REST: overrides.gpu_kv_max_tokens) (the host cache then keeps prefixes between requests).`,
        'overrides.gpu_kv_max_tokens',
        { field: 'overrides.gpu_kv_max_tokens', value: needed },
      );
    }
  }
  // A launched engine is started with max_seq_len; an attached one was started by someone else.
  if (!plan.engine.url && plan.max_seq_len < total) {
    throw new CannotRunError(
      `max_seq_len ${plan.max_seq_len} is below the workload's largest prompt (${largest.promptTokens} tokens) + output_tokens (${largest.outputTokens}) = ${total}: ` +
        `TensorRT-LLM would cut those outputs short with only a warning in its log. Give --max_seq_len ${total} or more (REST: max_seq_len).`,
      'max_seq_len',
      { field: 'max_seq_len', value: total },
    );
  }
}
