import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEngine, runToIdle, tokens } from './helpers.js';
import { loadProfile } from '../src/profile.js';
import { bandwidthAt } from '../src/link.js';
import { fitPrefill, TimingModel } from '../src/timing.js';
import { resolveModelShape, kvBytesPerToken } from '../src/shapes.js';
import type { RequestOutcome } from '../src/engine.js';

const TPB = 64;

/**
 * A (4096 tokens) and E (4096) are cached; F (one block of prompt, 4032 generated tokens) needs
 * 64 blocks, evicting A's blocks to the host; F's generated blocks are private, so when it ends
 * 63 GPU slots are empty. A again then onboards its 64 blocks into empty slots (plus one eviction).
 */
function repeatAfterOffload(profileName: string, hostBlocks: number): { repeat: RequestOutcome; first: RequestOutcome; engine: ReturnType<typeof makeEngine> } {
  const engine = makeEngine({ profile: profileName, gpuBlocks: 128, hostBlocks, tokensPerBlock: TPB, maxBatchSize: 1 });
  const A = tokens(1, 4096), E = tokens(2, 4096), F = tokens(3, 64);
  let t = 0;
  const outcomes: RequestOutcome[] = [];
  const submit = (id: number, toks: Uint32Array, maxTokens: number) => {
    engine.enqueue({ id, tokens: toks, maxTokens }, t);
    for (const r of runToIdle(engine, t)) {
      outcomes.push(...r.finished);
      t = r.end;
    }
  };
  submit(1, A, 1);
  submit(2, E, 1);
  submit(3, F, 4033);
  assert.equal(engine.blocks.counters.offloadBlocks, hostBlocks > 0 ? 64 : 0, 'F should have pushed all of A out of the GPU');
  submit(4, A, 1);
  return { first: outcomes.find((o) => o.id === 1)!, repeat: outcomes.find((o) => o.id === 4)!, engine };
}

for (const profileName of ['h100-pcie-gen5', 'gh200-c2c']) {
  test(`${profileName}: a repeat after offload pays onboard time = bytes / profile bandwidth (within 1%)`, () => {
    const { repeat, engine } = repeatAfterOffload(profileName, 512);
    assert.equal(repeat.onboardedBlocks, 64);
    assert.equal(repeat.cachedTokens, 4095, 'all but the last token reused');
    const profile = loadProfile(profileName);
    const blockBytes = TPB * kvBytesPerToken(resolveModelShape('llama-3.1-8b'));
    assert.equal(blockBytes, 8 * 2 ** 20);
    // Straight from the profile file: the block-copy point for 8 MiB blocks, host→GPU.
    const point = profile.link.block_copy!.h2d.find(([s]) => s === blockBytes);
    assert.ok(point, 'profile has an 8 MiB block-copy point');
    const expectedOnboard = (64 * blockBytes) / (point[1] * 1e9);
    const ttft = repeat.firstToken - repeat.arrival;
    const onboard = ttft - engine.timing.prefillSeconds(1, 4095);
    assert.ok(Math.abs(onboard - expectedOnboard) / expectedOnboard < 0.01, `onboard ${onboard} s vs bytes/bandwidth ${expectedOnboard} s`);
  });
}

test('with host_cache_size 0 a repeat after eviction pays prefill again', () => {
  const { repeat, first, engine } = repeatAfterOffload('h100-pcie-gen5', 0);
  assert.equal(repeat.cachedTokens, 0);
  assert.equal(repeat.onboardedBlocks, 0);
  const ttft = repeat.firstToken - repeat.arrival;
  const prefill = engine.timing.prefillSeconds(4096, 0);
  assert.ok(Math.abs(ttft - prefill) / prefill < 0.01, `ttft ${ttft} vs prefill ${prefill}`);
  assert.ok(Math.abs(ttft - (first.firstToken - first.arrival)) < 1e-9, 'same as the cold request');
});

test('offload beats recompute for a long prompt, and C2C onboards faster than PCIe', () => {
  const pcie = repeatAfterOffload('h100-pcie-gen5', 512).repeat;
  const c2c = repeatAfterOffload('gh200-c2c', 512).repeat;
  const none = repeatAfterOffload('h100-pcie-gen5', 0).repeat;
  const ttft = (o: RequestOutcome) => o.firstToken - o.arrival;
  assert.ok(ttft(pcie) < ttft(none));
  assert.ok(ttft(c2c) < ttft(pcie));
});

test('without a cached-prefix table: the prefill fit reproduces the measured table within 10%, and chunks add up to the whole', () => {
  const profile = structuredClone(loadProfile('h100-pcie-gen5'));
  delete profile.compute.prefill_cached;
  const ref = profile.compute.prefill.find((r) => r.shape === 'llama-3.1-8b')!;
  const { a, b } = fitPrefill(ref.points);
  for (const [n, t] of ref.points) assert.ok(Math.abs(a * n + b * n * n - t) / t < 0.1, `${n} tokens: fit ${a * n + b * n * n} vs measured ${t}`);
  const tm = new TimingModel(profile, resolveModelShape('llama-3.1-8b'), 64);
  const whole = tm.prefillSeconds(32768, 0);
  const chunked = tm.prefillSeconds(8192, 0) + tm.prefillSeconds(8192, 8192) + tm.prefillSeconds(16384, 16384);
  assert.ok(Math.abs(whole - chunked) < 1e-9);
  // Tensor parallelism divides the 70B figures.
  const t1 = new TimingModel(profile, resolveModelShape('llama-3-70b', { tp: 1 }), 64).prefillSeconds(4096);
  const t4 = new TimingModel(profile, resolveModelShape('llama-3-70b', { tp: 4 }), 64).prefillSeconds(4096);
  assert.ok(Math.abs(t1 / t4 - 4) < 1e-9);
  // Qwen3-8B has no table of its own: scaled from Llama-3.1-8B, a bit slower (more layers, params).
  const q = new TimingModel(profile, resolveModelShape('Qwen/Qwen3-8B'), 64);
  assert.equal(q.prefill.scaled, true);
  assert.ok(q.prefillSeconds(8192) > tm.prefillSeconds(8192));
});

test('bandwidth interpolates in log(size) and holds at the ends', () => {
  const table: Array<[number, number]> = [[1024, 1], [4096, 3]];
  assert.equal(bandwidthAt(table, 512), 1);
  assert.equal(bandwidthAt(table, 1 << 20), 3);
  assert.ok(Math.abs(bandwidthAt(table, 2048) - 2) < 1e-12);
});

test('queued requests wait for the GPU pool, in order', () => {
  // Pool of 40 blocks: two 1024-token requests (17 blocks each with 16 tokens out) fit, a third waits.
  const engine = makeEngine({ gpuBlocks: 40, tokensPerBlock: 64, maxBatchSize: 8 });
  for (let i = 1; i <= 3; i++) engine.enqueue({ id: i, tokens: tokens(10 + i, 1024), maxTokens: 16 }, 0);
  const first = engine.step(0)!;
  assert.equal(engine.numActive, 2);
  assert.equal(engine.numQueued, 1);
  const rest = runToIdle(engine, first.end);
  const done = [first, ...rest].flatMap((r) => r.finished);
  assert.deepEqual(done.map((d) => d.id).sort(), [1, 2, 3]);
  const third = done.find((d) => d.id === 3)!;
  assert.ok(third.firstScheduled >= Math.max(...done.filter((d) => d.id !== 3).map((d) => d.lastToken)) - 1e-12, 'the third starts when a slot frees');
});

test('chunked prefill splits a long prompt by max_num_tokens in block multiples', () => {
  const engine = makeEngine({ maxNumTokens: 1000, tokensPerBlock: 64, gpuBlocks: 256 });
  engine.enqueue({ id: 1, tokens: tokens(5, 3000), maxTokens: 2 }, 0);
  const its = runToIdle(engine, 0);
  const ctx = engine.drainIterationStats().map((s: any) => s.inflightBatchingStats.numCtxTokens).filter((n: number) => n > 0);
  assert.deepEqual(ctx, [960, 960, 960, 120]);
  assert.equal(its.at(-1)!.finished[0]!.completionTokens, 2);
});

test('a measured decode step table replaces the bandwidth formula for its shape', () => {
  const profile = structuredClone(loadProfile('h100-pcie-gen5'));
  const shape = resolveModelShape('llama-3.1-8b');
  const formula = new TimingModel(profile, shape, 64).decodeStepSeconds(4, 10000);
  profile.compute.decode.step_tables = [{ shape: 'llama-3.1-8b', tp: 1, points: [[0, 0.006], [100000, 0.016]] }];
  const tm = new TimingModel(profile, shape, 64);
  assert.ok(Math.abs(tm.decodeStepSeconds(4, 50000) - 0.011) < 1e-12);
  assert.notEqual(tm.decodeStepSeconds(4, 10000), formula);
  // Another shape keeps the formula.
  assert.equal(new TimingModel(profile, resolveModelShape('Qwen/Qwen3-8B'), 64).decodeLine, null);
});

test('an iteration never admits a request that arrives after its modelled start', () => {
  const engine = makeEngine();
  engine.enqueue({ id: 1, tokens: tokens(1, 512), maxTokens: 4 }, 0);
  // Request 2 arrives at t = 5 s, long after request 1 is done; the driver may step from an earlier time.
  engine.enqueue({ id: 2, tokens: tokens(2, 512), maxTokens: 4 }, 5);
  const outcomes: RequestOutcome[] = [];
  let t = 0;
  for (;;) {
    const r = engine.step(t);
    if (!r) {
      const next = engine.queuedArrivalAfter(t);
      if (next === null) break;
      t = next;
      continue;
    }
    outcomes.push(...r.finished);
    t = r.end;
  }
  const second = outcomes.find((o) => o.id === 2)!;
  assert.ok(second, 'request 2 finished');
  assert.ok(second.firstScheduled >= second.arrival, `scheduled ${second.firstScheduled} before arrival ${second.arrival}`);
  assert.equal(second.arrival, 5);
});
