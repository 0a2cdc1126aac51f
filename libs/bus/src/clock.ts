import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { CLOCK_SUBJECT } from './bus.js';

/**
 * Wall-clock alignment between hosts (NTP-style request/reply over NATS).
 * Durations never use wall clocks (they are measured on each agent's monotonic
 * clock); the offset only lines up timelines from different machines in reports.
 */
export interface ClockOffset {
  /** Reference clock minus this host's clock, milliseconds (add to local timestamps). */
  offset_ms: number;
  /** Round trip of the best exchange, milliseconds; the offset's error is at most half of it. */
  rtt_ms: number;
  samples: number;
  reference: string;
  measured_at: string;
}

/** Answer clock requests with this host's wall time (the aggregator runs it). */
export function serveClock(nc: NatsConnection, reference = 'aggregator'): Subscription {
  return nc.subscribe(CLOCK_SUBJECT, {
    callback: (err, msg) => {
      if (err) return;
      msg.respond(JSON.stringify({ now_ms: Date.now(), reference }));
    },
  });
}

/**
 * Several exchanges; keep the one with the smallest round trip (least queueing noise). `wallClock` is
 * injectable so tests check the arithmetic: the reference's reading lies between t0 and t3, so the
 * true offset is within ±rtt/2 of the estimate whatever the delays.
 */
export async function measureClockOffset(
  nc: Pick<NatsConnection, 'request'>,
  exchanges = 8,
  timeoutMs = 2000,
  wallClock: () => number = Date.now,
): Promise<ClockOffset | null> {
  let best: { offset: number; rtt: number; reference: string } | null = null;
  let n = 0;
  for (let i = 0; i < exchanges; i++) {
    const t0 = wallClock();
    let reply;
    try {
      reply = await nc.request(CLOCK_SUBJECT, '', { timeout: timeoutMs });
    } catch {
      continue;
    }
    const t3 = wallClock();
    const body = reply.json<{ now_ms: number; reference?: string }>();
    if (typeof body?.now_ms !== 'number') continue;
    n++;
    const rtt = t3 - t0;
    const offset = body.now_ms - (t0 + t3) / 2;
    if (!best || rtt < best.rtt) best = { offset, rtt, reference: body.reference ?? 'unknown' };
  }
  if (!best) return null;
  return { offset_ms: best.offset, rtt_ms: best.rtt, samples: n, reference: best.reference, measured_at: new Date().toISOString() };
}
