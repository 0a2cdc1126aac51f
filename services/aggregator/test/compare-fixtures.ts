import type { RunEvent } from '@kvbench/common';
import { runFixture, type RunFixture } from './fixtures.js';

/** runFixture with every TTFT and latency multiplied by `factor` (same request ids: a paired run of another system). */
export function scaledRun(opts: Parameters<typeof runFixture>[0], factor: number, logMetrics: Record<string, unknown> = {}): RunFixture {
  const f = runFixture(opts);
  const scale = (e: RunEvent): RunEvent => {
    if (e.type === 'sample') {
      const ttft = e.sample.ttft_s! * factor;
      // A breakdown whose parts add up to the TTFT (a tenth waiting in the client, the rest split in the engine).
      const breakdown = {
        client_wait_s: 0.1 * ttft, to_engine_s: 0.05 * ttft, engine_queue_s: 0.15 * ttft, first_token_s: 0.6 * ttft, to_client_s: 0.1 * ttft,
        clock: 'same host', joined_by: 'id', null_reasons: {},
      };
      const P = e.sample.prompt_tokens_client;
      const tokens = { gpu_hit: null, host_onboarded: null, recomputed: P, cached: 0, source: 'test', null_reasons: { gpu_hit: 'test', host_onboarded: 'test' } };
      return { ...e, sample: { ...e.sample, ttft_s: ttft, latency_s: e.sample.latency_s! * factor, breakdown, tokens } };
    }
    if (e.type === 'completed' || e.type === 'engine_stats') return { ...e, log_metrics: { ...e.log_metrics, ...logMetrics } };
    return e;
  };
  const samples = f.samples.map(scale);
  const engineStats = scale(f.engineStats);
  const completed = scale(f.completed);
  return { ...f, samples, engineStats, completed, all: [f.accepted, f.started, ...samples, engineStats, completed] };
}
