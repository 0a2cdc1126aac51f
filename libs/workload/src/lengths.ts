/**
 * Prompt lengths as a distribution (percentiles and power-of-two buckets), never a list of every
 * length: the one description the REST summary (WorkloadSummary.prompt_lengths) and
 * `kvbench workload show` both give.
 */
import { distribution, percentile, type AnyWorkload, type PromptLengths } from '@kvbench/common';

export function lengthDistribution(lengths: readonly number[]): PromptLengths {
  const d = distribution(lengths);
  let min = Infinity;
  let max = -Infinity;
  for (const n of lengths) (min = Math.min(min, n)), (max = Math.max(max, n));
  const buckets = new Map<number, number>();
  for (const n of lengths) {
    const low = n < 1 ? 0 : 2 ** Math.floor(Math.log2(n));
    buckets.set(low, (buckets.get(low) ?? 0) + 1);
  }
  return {
    requests: lengths.length,
    min: lengths.length ? min : null,
    p50: d.p50,
    p90: percentile(lengths, 90),
    p99: d.p99,
    max: lengths.length ? max : null,
    mean: d.mean,
    buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([low, requests]) => ({ low, high: Math.max(1, low * 2), requests })),
  };
}

/** Every request's prompt length, repeats included (the original batches' requests, or the scenario's). */
export function requestPromptLengths(doc: AnyWorkload): number[] {
  const tokens = new Map(doc.prompts.map((p) => [p.id, p.tokens]));
  const requests = doc.version === 2 ? doc.requests : doc.batches.flatMap((b) => b.requests);
  return requests.map((r) => tokens.get(r.prompt_id) ?? 0);
}
