/**
 * Invariants of the KV cache and scheduler over random request streams (fast-check):
 * pools never overfull; every reused block was stored earlier and is still stored;
 * offloaded blocks = `updated` 0→1 events = Σ iterOffloadBlocks; cacheHitRate = reused/(reused+missed);
 * the same stream gives the same output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeEngine, tokens } from './helpers.js';
import type { Engine } from '../src/engine.js';

interface Arrival {
  /** Which of a few base prompts it shares a prefix with. */
  base: number;
  /** How many blocks of that prefix it keeps before its own tokens. */
  sharedTokens: number;
  ownTokens: number;
  ownSeed: number;
  maxTokens: number;
  /** Modelled seconds after the previous arrival. */
  gap: number;
  cancelAfterSteps: number | null;
}

const TPB = 4;

const arrivalArb = fc.record({
  base: fc.integer({ min: 0, max: 3 }),
  sharedTokens: fc.integer({ min: 0, max: 40 }),
  ownTokens: fc.integer({ min: 0, max: 30 }),
  ownSeed: fc.integer({ min: 0, max: 5 }),
  maxTokens: fc.integer({ min: 1, max: 12 }),
  gap: fc.double({ min: 0, max: 0.05, noNaN: true }),
  cancelAfterSteps: fc.option(fc.integer({ min: 0, max: 5 }), { freq: 8 }),
});

const configArb = fc.record({
  gpuBlocks: fc.integer({ min: 24, max: 64 }),
  hostBlocks: fc.integer({ min: 0, max: 40 }),
  maxBatchSize: fc.integer({ min: 1, max: 6 }),
  maxNumTokens: fc.integer({ min: 2, max: 64 }),
  enableChunkedPrefill: fc.boolean(),
  secondaryOffloadMinPriority: fc.constantFrom(0, 35, 50),
  enableBlockReuse: fc.boolean(),
});

function promptOf(a: Arrival): Uint32Array {
  const base = tokens(1000 + a.base, 40);
  const own = tokens(a.ownSeed * 7919 + a.ownTokens, a.ownTokens);
  const t = new Uint32Array(a.sharedTokens + a.ownTokens || 1);
  t.set(base.subarray(0, a.sharedTokens));
  t.set(own, a.sharedTokens);
  return t;
}

interface Trace {
  results: Array<{ finished: Array<{ id: number; completionTokens: number; cachedTokens: number; promptTokens: number }> }>;
  enqueued: Map<number, number>;
  cancelled: Set<number>;
  stats: Array<Record<string, any>>;
  events: Array<{ data: any }>;
  perf: unknown[];
}

/** Feed the arrivals, stepping the engine between them; check invariants after every step. */
function simulate(cfg: Record<string, any>, arrivals: Arrival[], check = true): { engine: Engine; trace: Trace } {
  const engine = makeEngine({ ...cfg, tokensPerBlock: TPB, traceReuse: true });
  const trace: Trace = { results: [], enqueued: new Map(), cancelled: new Set(), stats: [], events: [], perf: [] };
  const storedNow = new Set<number>();
  let seenReuse = 0;
  const absorbEvents = () => {
    for (const e of engine.drainEvents()) {
      trace.events.push(e);
      if (e.data.type === 'stored') for (const b of e.data.blocks) storedNow.add(b.block_hash);
      if (e.data.type === 'removed') for (const h of e.data.block_hashes) storedNow.delete(h);
    }
  };
  const pending: Array<{ id: number; at: number; cancelAfter: number | null }> = [];
  let t = 0;
  arrivals.forEach((a, i) => {
    t += a.gap;
    pending.push({ id: i + 1, at: t, cancelAfter: a.cancelAfterSteps });
  });
  let now = 0;
  let next = 0;
  let steps = 0;
  const cancels: Array<{ id: number; step: number }> = [];
  absorbEvents();
  while (next < pending.length || engine.hasWork()) {
    while (next < pending.length && (pending[next]!.at <= now || !engine.hasWork())) {
      const p = pending[next]!;
      now = Math.max(now, p.at);
      const a = arrivals[next]!;
      const prompt = promptOf(a);
      const need = engine.blocksNeeded(prompt.length, a.maxTokens);
      const fitsChunking = engine.opts.enableChunkedPrefill || prompt.length <= engine.opts.maxNumTokens;
      if (need <= engine.opts.gpuBlocks && fitsChunking) {
        engine.enqueue({ id: p.id, tokens: prompt, maxTokens: a.maxTokens }, now);
        trace.enqueued.set(p.id, a.maxTokens);
        if (p.cancelAfter !== null) cancels.push({ id: p.id, step: steps + p.cancelAfter });
      }
      next++;
    }
    for (const c of cancels)
      if (c.step === steps) {
        engine.cancel(c.id);
        trace.cancelled.add(c.id);
      }
    const r = engine.step(now);
    steps++;
    if (!r) continue;
    trace.results.push(r);
    assert.ok(r.transferSeconds >= Math.max(r.h2dSeconds, r.d2hSeconds) - 1e-15, 'directions overlap, never beat each alone');
    assert.ok(r.end >= r.start);
    now = r.end;
    if (check) {
      engine.blocks.checkInvariants();
      assert.ok(engine.blocks.gpuUsed <= engine.blocks.gpuBlocks, 'GPU pool overfull');
      assert.ok(engine.blocks.hostUsed <= engine.blocks.hostBlocks, 'host pool overfull');
      // Reuses of this step were admitted before this step stored anything: they must be in the
      // set of blocks stored by earlier steps and not removed since.
      const trace2 = engine.blocks.reuseTrace!;
      for (; seenReuse < trace2.length; seenReuse++) assert.ok(storedNow.has(trace2[seenReuse]!), `reused block ${trace2[seenReuse]} was never stored (or was removed)`);
      absorbEvents();
    }
  }
  absorbEvents();
  trace.stats = engine.drainIterationStats().map(({ timestamp: _ts, ...rest }) => rest);
  trace.perf = engine.drainPerfMetrics();
  return { engine, trace };
}

test('pools, reuse, offload accounting and hit rate hold over random request streams', () => {
  fc.assert(
    fc.property(configArb, fc.array(arrivalArb, { minLength: 1, maxLength: 40 }), (cfg, arrivals) => {
      const { engine, trace } = simulate(cfg, arrivals);
      const c = engine.blocks.counters;
      const updates01 = trace.events.filter((e) => e.data.type === 'updated' && e.data.cache_level.old_value === 0 && e.data.cache_level.new_value === 1).length;
      const updates10 = trace.events.filter((e) => e.data.type === 'updated' && e.data.cache_level.old_value === 1 && e.data.cache_level.new_value === 0).length;
      const window = String(engine.opts.windowSize);
      const sumIterOffload = trace.stats.reduce((s, st) => s + st.kvCacheIterationStats[window].iterOffloadBlocks, 0);
      const sumIterOnboard = trace.stats.reduce((s, st) => s + st.kvCacheIterationStats[window].iterOnboardBlocks, 0);
      assert.equal(updates01, c.offloadBlocks);
      assert.equal(sumIterOffload, c.offloadBlocks);
      assert.equal(updates10, c.onboardBlocks);
      assert.equal(sumIterOnboard, c.onboardBlocks);
      const last = trace.stats.at(-1)?.kvCacheStats;
      if (last) {
        const lookups = last.reusedBlocks + last.missedBlocks;
        assert.equal(last.cacheHitRate, lookups === 0 ? 0 : last.reusedBlocks / lookups);
        assert.equal(last.reusedBlocks, c.reusedBlocks);
        // Per-iteration deltas add up to the cumulative counters.
        assert.equal(trace.stats.reduce((s, st) => s + st.kvCacheIterationStats[window].iterReusedBlocks, 0), c.reusedBlocks);
        assert.equal(trace.stats.reduce((s, st) => s + st.kvCacheIterationStats[window].iterMissedBlocks, 0), c.missedBlocks);
      }
      if (!cfg.enableBlockReuse) assert.equal(c.reusedBlocks + c.offloadBlocks, 0);
      if (cfg.hostBlocks === 0) assert.equal(c.offloadBlocks, 0);
      // Liveness: every request not cancelled finishes with all its tokens; reuse never covers the last token.
      const finished = new Map(trace.results.flatMap((r) => r.finished).map((f) => [f.id, f]));
      for (const [id, maxTokens] of trace.enqueued) {
        const f = finished.get(id);
        if (!f) assert.ok(trace.cancelled.has(id), `request ${id} never finished`);
        else {
          assert.equal(f.completionTokens, maxTokens);
          assert.ok(f.cachedTokens <= f.promptTokens - 1);
        }
      }
      // Everything is released at the end: nothing is held by a request.
      assert.equal(engine.blocks.gpuUsed, 0);
    }),
    { numRuns: 150 },
  );
});

test('the same request stream gives the same output', () => {
  fc.assert(
    fc.property(configArb, fc.array(arrivalArb, { minLength: 1, maxLength: 25 }), (cfg, arrivals) => {
      const a = simulate(cfg, arrivals, false).trace;
      const b = simulate(cfg, arrivals, false).trace;
      assert.deepEqual(b, a);
    }),
    { numRuns: 40 },
  );
});

test('a block offloaded by a random stream is found again on the host (reuse across offload)', () => {
  // Not vacuous: make sure the generator really exercises offload and onboarding. A fixed seed: with a
  // fresh one each run, 60 random streams onboarded nothing about one make test in a few (seen once under
  // two CPU hogs), which said nothing about the engine.
  let offloads = 0, onboards = 0;
  fc.assert(
    fc.property(configArb, fc.array(arrivalArb, { minLength: 10, maxLength: 40 }), (cfg, arrivals) => {
      const { engine } = simulate({ ...cfg, enableBlockReuse: true, hostBlocks: Math.max(cfg.hostBlocks, 20) }, arrivals, false);
      offloads += engine.blocks.counters.offloadBlocks;
      onboards += engine.blocks.counters.onboardBlocks;
    }),
    { numRuns: 60, seed: 20261206 },
  );
  assert.ok(offloads > 0, 'random streams never offloaded');
  assert.ok(onboards > 0, 'random streams never onboarded');
});
