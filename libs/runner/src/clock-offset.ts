/**
 * How the engine's steady clock relates to the agent's monotonic clock, so
 * /perf_metrics timestamps can be compared with client timestamps.
 */
import { httpJson } from './http.js';
import { monotonicSeconds, now } from './clock.js';
import type { ClockRelation } from './stats/perf-metrics.js';

const OFFSET_EXCHANGES = 8;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** One NTP-style exchange, in seconds: agent send (t0) and receipt (t3), engine receipt and transmission. */
export interface ClockExchange {
  t0: number;
  receive: number;
  transmit: number;
  t3: number;
}

/**
 * The exchange with the shortest round trip and the offset (engine − agent) it gives. Pure arithmetic,
 * so tests check it with made-up clocks: whatever the delays, the true offset lies within ±rtt/2 of it.
 */
export function bestOffset(exchanges: readonly ClockExchange[]): { offset: number; rtt: number } | null {
  let best: { offset: number; rtt: number } | null = null;
  for (const x of exchanges) {
    const offset = (x.receive - x.t0 + (x.transmit - x.t3)) / 2;
    const rtt = x.t3 - x.t0 - (x.transmit - x.receive);
    if (!best || rtt < best.rtt) best = { offset, rtt };
  }
  return best;
}

export async function relateClocks(base: URL, launchedHere: boolean): Promise<ClockRelation> {
  if (launchedHere) return { offsetS: 0, errorS: 0, how: 'same host: engine steady clock and agent hrtime are both CLOCK_MONOTONIC' };
  // trtllm-serve's GET /steady_clock_offset answers its clock at receipt and at transmission (NTP-style).
  // Several exchanges, keeping the one with the shortest round trip: its offset error is bounded by half
  // that round trip, and the first exchange also pays for the connection and is the least symmetric.
  const exchanges: ClockExchange[] = [];
  for (let i = 0; i < OFFSET_EXCHANGES; i++) {
    try {
      const t0 = now();
      const r = await httpJson<{ receive_ts?: number; transmit_ts?: number }>(new URL('/steady_clock_offset', base), { timeoutMs: 5_000 });
      const t3 = now();
      if (typeof r.receive_ts !== 'number' || typeof r.transmit_ts !== 'number') break;
      exchanges.push({ t0: monotonicSeconds(t0), receive: r.receive_ts, transmit: r.transmit_ts, t3: monotonicSeconds(t3) });
    } catch {
      break; // endpoint absent
    }
  }
  const best = bestOffset(exchanges);
  if (best) {
    return { offsetS: best.offset, errorS: best.rtt / 2, how: `GET /steady_clock_offset (NTP-style, best of ${OFFSET_EXCHANGES}: round trip ${(best.rtt * 1000).toFixed(2)} ms, offset error at most half of it)` };
  }
  if (LOOPBACK.has(base.hostname)) return { offsetS: 0, how: 'loopback URL: same host, both CLOCK_MONOTONIC' };
  return { offsetS: null, how: 'remote engine without /steady_clock_offset: clocks not related, /perf_metrics joined by id only' };
}
