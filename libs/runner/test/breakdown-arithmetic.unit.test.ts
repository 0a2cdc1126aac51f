/**
 * The TTFT breakdown's and the clock relation's arithmetic with injected clocks: every instant is made
 * up, so the expected parts are exact (the process test, breakdown.test.ts, checks the same code against
 * a timed engine, but only causality there: a loaded machine stretches every real delay).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BREAKDOWN_PARTS } from '@kvbench/common';
import { bestOffset, engineBreakdown, type ClockExchange, type PerfEntry } from '@kvbench/runner';

const EPS = 1e-9;
const ns = (s: number) => BigInt(Math.round(s * 1e9));
const near = (got: number | null | undefined, want: number, what: string) =>
  assert.ok(typeof got === 'number' && Math.abs(got - want) <= EPS, `${what}: ${got} vs ${want}`);

test('engine parts from the engine clock, cross-clock parts through the offset, Σ parts = TTFT, all ÷ time scale', () => {
  // Agent clock: released at 100 s, written at 100.010, first text at 100.200.
  // Engine clock = agent + 5000 s: arrival 5100.025, scheduled 5100.045, first token 5100.185.
  const times = { scheduledAt: ns(100), writtenAt: ns(100.01), firstTextAt: ns(100.2) };
  const entry: PerfEntry = {
    request_id: 1,
    perf_metrics: { timing_metrics: { arrival_time: 5100.025, first_scheduled_time: 5100.045, first_token_time: 5100.185, last_token_time: 5100.3 } },
  };
  for (const scale of [1, 0.5]) {
    const b = engineBreakdown(entry, times, { offsetS: 5000, errorS: 0.0004, how: 'test' }, scale, 'id');
    near(b.client_wait_s, 0.01 / scale, 'client_wait_s');
    near(b.to_engine_s, 0.015 / scale, 'to_engine_s');
    near(b.engine_queue_s, 0.02 / scale, 'engine_queue_s');
    near(b.first_token_s, 0.14 / scale, 'first_token_s');
    near(b.to_client_s, 0.015 / scale, 'to_client_s');
    near(b.clock_error_s, 0.0004 / scale, 'clock_error_s');
    const sum = BREAKDOWN_PARTS.reduce((a, k) => a + (b[k] as number), 0);
    near(sum, 0.2 / scale, 'Σ parts = (first text − released) / scale');
  }
  // Clocks not related: the engine-clock spans remain, the cross-clock ones are null with the reason.
  const unrelated = engineBreakdown(entry, times, { offsetS: null, how: 'none' }, 1, 'id');
  near(unrelated.engine_queue_s, 0.02, 'engine_queue_s without a clock relation');
  assert.equal(unrelated.to_engine_s, null);
  assert.match(unrelated.null_reasons.to_client_s ?? '', /not related/);
});

test('NTP exchange: the shortest round trip is kept; the true offset lies within ±rtt/2 whatever the delays', () => {
  const TRUE = 5000;
  // Made-up exchanges: delays out and back chosen freely (asymmetric, as on a loaded machine).
  const exchange = (t0: number, out: number, work: number, back: number): ClockExchange => ({
    t0,
    receive: t0 + out + TRUE,
    transmit: t0 + out + work + TRUE,
    t3: t0 + out + work + back,
  });
  const xs = [exchange(10, 0.004, 0.0001, 0.0002), exchange(11, 0.0003, 0.00005, 0.0009), exchange(12, 0.2, 0, 0.001)];
  const best = bestOffset(xs)!;
  near(best.rtt, 0.0012, 'rtt of the second exchange (work excluded)');
  near(best.offset, TRUE + (0.0003 - 0.0009) / 2, 'offset = true + (out − back) / 2');
  assert.ok(Math.abs(best.offset - TRUE) <= best.rtt / 2 + EPS);
  // Symmetric delays give the true offset exactly.
  near(bestOffset([exchange(20, 0.001, 0.0005, 0.001)])!.offset, TRUE, 'symmetric exchange');
  assert.equal(bestOffset([]), null);
});

test('a cross-clock part below zero: 0 within rounding, null with the reason beyond it, never negative', () => {
  // Written at 100.010 on the agent clock; the engine says it arrived 0.5 µs before (rounding) or 10 ms before.
  const times = { scheduledAt: ns(100), writtenAt: ns(100.01), firstTextAt: ns(100.2) };
  const entry = (arrival: number): PerfEntry => ({ request_id: 1, perf_metrics: { timing_metrics: { arrival_time: arrival, first_scheduled_time: 100.02, first_token_time: 100.15, last_token_time: 100.3 } } });
  const within = engineBreakdown(entry(100.0099995), times, { offsetS: 0, errorS: 0.0005, how: 'test' }, 1, 'id');
  assert.equal(within.to_engine_s, 0);
  assert.equal(engineBreakdown(entry(100.0099), times, { offsetS: 0, errorS: 0.0005, how: 'test' }, 1, 'id').to_engine_s, null, '0.1 ms early, even within the clock error: null');
  const beyond = engineBreakdown(entry(100.0), times, { offsetS: 0, errorS: 0.0005, how: 'test' }, 1, 'id');
  assert.equal(beyond.to_engine_s, null);
  assert.match(beyond.null_reasons.to_engine_s ?? '', /came out negative \(-10\.000 ms;/);
  near(beyond.engine_queue_s, 0.02, 'engine_queue_s unaffected');
});
