import type { Sample } from '@kvbench/common';

/** A sample usable for timing statistics: it succeeded and has both durations. */
export function isMeasured(s: Sample): s is Sample & { ttft_s: number; latency_s: number } {
  return s.ok && s.ttft_s !== null && s.latency_s !== null;
}

export interface PairedTimings {
  /** Request ids measured on both sides, sorted so results do not depend on arrival order. */
  request_ids: string[];
  baseline: { ttft_s: Float64Array; latency_s: Float64Array };
  other: { ttft_s: Float64Array; latency_s: Float64Array };
  /** Measured on the baseline only (request missing from the other run). */
  baseline_only: number;
  /** Measured on the other system only. */
  other_only: number;
  /** Present on both sides but failed (or has no timing) on at least one. */
  failed: number;
}

/**
 * Pairs the same request (same request_id of the same workload) across two runs.
 * Requests that are not measured on both sides are left out and counted, never
 * matched to something else.
 */
export function pairByRequestId(baseline: readonly Sample[], other: readonly Sample[]): PairedTimings {
  const b = firstById(baseline);
  const o = firstById(other);
  const ids: string[] = [];
  let baselineOnly = 0;
  let otherOnly = 0;
  let failed = 0;
  for (const [id, bs] of b) {
    const os = o.get(id);
    if (!os) {
      if (isMeasured(bs)) baselineOnly++;
      continue;
    }
    if (isMeasured(bs) && isMeasured(os)) ids.push(id);
    else failed++;
  }
  for (const [id, os] of o) if (!b.has(id) && isMeasured(os)) otherOnly++;
  ids.sort();
  const pick = (m: Map<string, Sample>, key: 'ttft_s' | 'latency_s') => Float64Array.from(ids, (id) => m.get(id)![key]!);
  return {
    request_ids: ids,
    baseline: { ttft_s: pick(b, 'ttft_s'), latency_s: pick(b, 'latency_s') },
    other: { ttft_s: pick(o, 'ttft_s'), latency_s: pick(o, 'latency_s') },
    baseline_only: baselineOnly,
    other_only: otherOnly,
    failed,
  };
}

// A stored run holds each request once; should a file repeat one, the first occurrence counts.
function firstById(samples: readonly Sample[]): Map<string, Sample> {
  const m = new Map<string, Sample>();
  for (const s of samples) if (!m.has(s.request_id)) m.set(s.request_id, s);
  return m;
}
