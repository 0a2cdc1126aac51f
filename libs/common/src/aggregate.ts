import { distribution } from './stats.js';
import type { Sample } from './schemas/events.js';
import type { Aggregate } from './schemas/results.js';

/**
 * The `aggregate` block of a run from its samples. Percentiles cover successful
 * requests only; failures are counted. Throughput is successful requests over
 * the measured window (first scheduled → last finished).
 */
export function computeAggregate(samples: readonly Sample[]): Aggregate & Record<string, number | null> {
  const ok = samples.filter((s) => s.ok && s.ttft_s !== null && s.latency_s !== null);
  const ttft = distribution(ok.map((s) => s.ttft_s!));
  const latency = distribution(ok.map((s) => s.latency_s!));
  const window = measuredWindow(ok);
  return {
    throughput_req_per_s: window > 0 ? ok.length / window : null,
    ttft_p50_s: ttft.p50,
    ttft_p95_s: ttft.p95,
    ttft_p99_s: ttft.p99,
    latency_p50_s: latency.p50,
    latency_p95_s: latency.p95,
    latency_p99_s: latency.p99,
    ttft_mean_s: ttft.mean,
    latency_mean_s: latency.mean,
    n_requests: samples.length,
    n_ok: ok.length,
    n_failed: samples.length - ok.length,
    window_s: window,
  };
}

/** Seconds from the first request's scheduling to the last request's end. */
export function measuredWindow(samples: readonly Sample[]): number {
  let start = Infinity;
  let end = -Infinity;
  for (const s of samples) {
    if (s.latency_s === null) continue;
    start = Math.min(start, s.scheduled_at_s);
    end = Math.max(end, s.scheduled_at_s + s.latency_s);
  }
  return end > start ? end - start : 0;
}
