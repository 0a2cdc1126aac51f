/**
 * How the engine's steady clock relates to the agent's monotonic clock, so
 * /perf_metrics timestamps can be compared with client timestamps.
 */
import { httpJson } from './http.js';
import { monotonicSeconds, now } from './clock.js';
import type { ClockRelation } from './stats/perf-metrics.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export async function relateClocks(base: URL, launchedHere: boolean): Promise<ClockRelation> {
  if (launchedHere) return { offsetS: 0, how: 'same host: engine steady clock and agent hrtime are both CLOCK_MONOTONIC' };
  // trtllm-serve's GET /steady_clock_offset answers its clock at receipt and at transmission (NTP-style).
  try {
    const t0 = now();
    const r = await httpJson<{ receive_ts?: number; transmit_ts?: number }>(new URL('/steady_clock_offset', base), { timeoutMs: 5_000 });
    const t3 = now();
    if (typeof r.receive_ts === 'number' && typeof r.transmit_ts === 'number') {
      const offset = (r.receive_ts - monotonicSeconds(t0) + (r.transmit_ts - monotonicSeconds(t3))) / 2;
      const rtt = monotonicSeconds(t3) - monotonicSeconds(t0) - (r.transmit_ts - r.receive_ts);
      return { offsetS: offset, how: `GET /steady_clock_offset (NTP-style, round trip ${(rtt * 1000).toFixed(2)} ms)` };
    }
  } catch {
    /* endpoint absent */
  }
  if (LOOPBACK.has(base.hostname)) return { offsetS: 0, how: 'loopback URL: same host, both CLOCK_MONOTONIC' };
  return { offsetS: null, how: 'remote engine without /steady_clock_offset: clocks not related, /perf_metrics joined by id only' };
}
