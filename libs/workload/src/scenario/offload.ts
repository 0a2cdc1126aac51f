import { DEFAULT_TOKEN_RANGE, ValidationError, type ScenarioWorkload } from '@kvbench/common';
import { ScenarioBuilder } from './builder.js';

export interface OffloadPointInput {
  /** Length of the measured prompt. */
  promptTokens: number;
  /** Eviction traffic in total: enough distinct tokens to push the prompt out of the GPU pool. */
  evictionTokens: number;
  /** Largest eviction request (each must fit the GPU pool with its output). */
  evictionRequestTokens: number;
  seed: number;
}

/**
 * One point of the offload-versus-recompute experiment (after vLLM's
 * benchmarks/offloading/bench_offloading_e2e.py): a cold request, eviction traffic of distinct
 * prompts sized to push it out of the GPU pool, then the same request again; one at a time, each
 * released when the previous completed. The engine's counters then say where the replay's KV came
 * from (see the sweep). Evictions generate 1 token: only their KV matters.
 */
export function generateOffloadPoint(o: OffloadPointInput): ScenarioWorkload {
  for (const [k, v] of Object.entries(o)) {
    if (k !== 'seed' && (!Number.isInteger(v) || v <= 0)) throw new ValidationError(`${k}: must be a positive integer`, k);
  }
  const b = new ScenarioBuilder({
    kind: 'offload',
    params: { prompt_tokens: o.promptTokens, eviction_tokens: o.evictionTokens, eviction_request_tokens: o.evictionRequestTokens, seed: o.seed },
    max_concurrency: 1,
    token_space: { seed: o.seed, ...DEFAULT_TOKEN_RANGE },
  });
  const target = b.prompt(`x${o.promptTokens}`, [{ segment: b.segment(`x${o.promptTokens}`, o.promptTokens) }]);
  b.request({ request_id: 'cold', prompt: target, release: { type: 'at', at_ms: 0 }, tags: { kind: 'offload', step: 'cold' } });
  let previous = 'cold';
  let left = o.evictionTokens;
  for (let i = 0; left > 0; i++) {
    const n = Math.min(left, o.evictionRequestTokens);
    left -= n;
    const id = `evict${String(i).padStart(3, '0')}`;
    b.request({
      request_id: id,
      prompt: b.prompt(id, [{ segment: b.segment(id, n) }]),
      release: { type: 'after', request_id: previous, delay_ms: 0 },
      output_tokens: 1,
      tags: { kind: 'offload', step: 'evict' },
    });
    previous = id;
  }
  b.request({ request_id: 'replay', prompt: target, release: { type: 'after', request_id: previous, delay_ms: 0 }, tags: { kind: 'offload', step: 'replay' } });
  return b.build();
}
