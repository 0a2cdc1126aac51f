// The wall-clock offset's arithmetic with an injected clock and a scripted reply: exact, whatever the
// machine's load (the pipeline test checks the same code end to end, by NTP's bound only).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureClockOffset } from '@kvbench/bus';

/** A bus whose replies come from a reference clock `offset` ms ahead, after scripted delays out and back. */
function scripted(offset: number, delays: [out: number, back: number][]) {
  let local = 1_000_000;
  let i = 0;
  const wallClock = () => local;
  const nc = {
    request: async () => {
      const d = delays[i++];
      if (!d) throw new Error('no reply');
      local += d[0];
      const now_ms = local + offset;
      local += d[1];
      return { json: () => ({ now_ms, reference: 'ref' }) };
    },
  } as unknown as Parameters<typeof measureClockOffset>[0];
  return { nc, wallClock };
}

test('keeps the exchange with the shortest round trip; the offset is exact for symmetric delays and within ±rtt/2 otherwise', async () => {
  const { nc, wallClock } = scripted(250, [[30, 2], [3, 3], [1, 9]]);
  const r = (await measureClockOffset(nc, 3, 100, wallClock))!;
  assert.equal(r.rtt_ms, 6);
  assert.equal(r.offset_ms, 250);
  assert.equal(r.samples, 3);
  assert.equal(r.reference, 'ref');

  const s = scripted(-40, [[1, 4]]);
  const one = (await measureClockOffset(s.nc, 1, 100, s.wallClock))!;
  assert.equal(one.rtt_ms, 5);
  assert.equal(one.offset_ms, -40 + (1 - 4) / 2);
  assert.ok(Math.abs(one.offset_ms - -40) <= one.rtt_ms / 2);
});

test('no reply at all: null, never a guessed offset', async () => {
  const { nc, wallClock } = scripted(0, []);
  assert.equal(await measureClockOffset(nc, 2, 100, wallClock), null);
});
