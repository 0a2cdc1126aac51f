/**
 * What the simulator reports per request: prompt tokens by tier (GPU hit, onboarded from host,
 * recomputed) straight from the block manager, and the request's own onboard time, which must be
 * the profile's bytes / bandwidth for the blocks it onboarded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bandwidthAt, blockTable } from '../src/link.js';
import { loadProfile } from '../src/profile.js';
import type { RequestOutcome } from '../src/engine.js';
import { makeEngine, runToIdle, tokens } from './helpers.js';

const TPB = 64;

function concat(...parts: Uint32Array[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

test('token tiers add up to the prompt and onboard_s = onboarded bytes / h2d bandwidth', () => {
  // 8 GPU blocks: a 448-token prompt (7 blocks + 1 for output) evicts all of an earlier 256-token prompt to host.
  const engine = makeEngine({ gpuBlocks: 8, hostBlocks: 64, tokensPerBlock: TPB, maxBatchSize: 1 });
  const a = tokens(1, 256);
  const b = tokens(2, 448);
  const outcomes = new Map<number, RequestOutcome>();
  let t = 0;
  const run = (id: number, prompt: Uint32Array) => {
    engine.enqueue({ id, tokens: prompt, maxTokens: 2 }, t);
    for (const r of runToIdle(engine, t)) {
      for (const f of r.finished) outcomes.set(f.id, f);
      t = r.end;
    }
    return outcomes.get(id)!;
  };

  const cold = run(1, a);
  assert.deepEqual([cold.gpuHitTokens, cold.hostOnboardedTokens, cold.recomputedTokens], [0, 0, 256]);
  assert.equal(cold.onboardSeconds, 0);

  run(2, b); // pushes every block of `a` to the host pool
  const fromHost = run(3, a);
  assert.equal(fromHost.onboardedBlocks, 4);
  // The whole prompt matched: its last token is computed again for the logits.
  assert.deepEqual([fromHost.gpuHitTokens, fromHost.hostOnboardedTokens, fromHost.recomputedTokens], [0, 255, 1]);

  const profile = loadProfile('h100-pcie-gen5');
  const blockBytes = engine.timing.blockBytes;
  const gbps = bandwidthAt(blockTable(profile.link, 'h2d'), blockBytes);
  const expected = (4 * blockBytes) / (gbps * 1e9);
  assert.ok(Math.abs(fromHost.onboardSeconds - expected) <= 0.01 * expected, `onboard ${fromHost.onboardSeconds} s vs ${expected} s`);
  assert.ok(fromHost.prefillSeconds > 0 && fromHost.prefillSeconds < cold.prefillSeconds, 'one recomputed token costs less than 256');

  // Now on the GPU: a longer prompt sharing the 4 blocks hits them there and computes the rest.
  const longer = run(4, concat(a, tokens(3, 100)));
  assert.deepEqual([longer.gpuHitTokens, longer.hostOnboardedTokens, longer.recomputedTokens], [256, 0, 100]);
  assert.equal(longer.onboardSeconds, 0);

  for (const o of outcomes.values()) assert.equal(o.gpuHitTokens + o.hostOnboardedTokens + o.recomputedTokens, o.promptTokens);
});

test('/perf_metrics entries carry the tiers and onboard/prefill seconds on the steady clock', () => {
  const engine = makeEngine({ gpuBlocks: 8, hostBlocks: 64, tokensPerBlock: TPB, maxBatchSize: 1, toSteadySeconds: (t) => 500 + t * 2 });
  let t = 0;
  for (const [id, p] of [[1, tokens(1, 256)], [2, tokens(2, 448)], [3, tokens(1, 256)]] as const) {
    engine.enqueue({ id, tokens: p, maxTokens: 2 }, t);
    const its = runToIdle(engine, t);
    t = its.at(-1)!.end;
  }
  const perf = engine.drainPerfMetrics() as Array<{ request_id: number; sim: Record<string, any> }>;
  const e = perf.find((x) => x.request_id === 3)!;
  assert.deepEqual(e.sim.tokens, { gpu_hit: 0, host_onboarded: 255, recomputed: 1 });
  assert.equal(e.sim.onboarded_blocks, 4);
  assert.equal(e.sim.onboarded_bytes, 4 * engine.timing.blockBytes);
  // Durations scale with the clock mapping (×2 here), like the timestamps.
  const modelled = (4 * engine.timing.blockBytes) / (bandwidthAt(blockTable(loadProfile('h100-pcie-gen5').link, 'h2d'), engine.timing.blockBytes) * 1e9);
  assert.ok(Math.abs(e.sim.onboard_s - 2 * modelled) <= 0.01 * 2 * modelled);
  assert.ok(e.sim.prefill_s > 0);
});
