import type { RunEvent } from '@kvbench/common';
import { runFixture, type RunFixture } from './fixtures.js';

/** runFixture with every TTFT and latency multiplied by `factor` (same request ids: a paired run of another system). */
export function scaledRun(opts: Parameters<typeof runFixture>[0], factor: number, logMetrics: Record<string, unknown> = {}): RunFixture {
  const f = runFixture(opts);
  const scale = (e: RunEvent): RunEvent => {
    if (e.type === 'sample') return { ...e, sample: { ...e.sample, ttft_s: e.sample.ttft_s! * factor, latency_s: e.sample.latency_s! * factor } };
    if (e.type === 'completed' || e.type === 'engine_stats') return { ...e, log_metrics: { ...e.log_metrics, ...logMetrics } };
    return e;
  };
  const samples = f.samples.map(scale);
  const engineStats = scale(f.engineStats);
  const completed = scale(f.completed);
  return { ...f, samples, engineStats, completed, all: [f.accepted, f.started, ...samples, engineStats, completed] };
}
