/**
 * The virtual clock's driver against the engine, in process: iterations run only before the
 * client's horizon, an advance stops after an iteration that finished a request, a request arriving
 * during an iteration is admitted at the next one (as in real time), and the modelled times are the
 * engine's own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualDriver } from '../src/virtual-driver.js';
import { makeEngine, runToIdle, tokens } from './helpers.js';

const noWrites = () => () => {};

test('advance runs only iterations starting before the horizon and stops at a completion', () => {
  const engine = makeEngine();
  const d = new VirtualDriver(engine, noWrites);
  d.submit({ id: 1, tokens: tokens(1, 1000), maxTokens: 4 }, 0);
  const first = d.advance(1e-6);
  // One iteration started at 0 (before the horizon); the next would start at its end, past 1 µs.
  assert.equal(first.iterations, 1);
  assert.equal(first.finished.length, 0);
  assert.ok(first.nowS > 1e-6);
  const done = d.advance(null);
  assert.equal(done.finished.length, 1);
  assert.equal(done.finished[0]!.outcome.completionTokens, 4);
  assert.equal(done.idle, true);
  assert.equal(done.nowS, done.finished[0]!.outcome.lastToken);
});

test('the same requests at the same modelled times give the same times as running the engine directly', () => {
  const direct = makeEngine();
  direct.enqueue({ id: 1, tokens: tokens(1, 3000), maxTokens: 8 }, 0);
  direct.enqueue({ id: 2, tokens: tokens(2, 500), maxTokens: 8 }, 0);
  const its = runToIdle(direct, 0);
  const want = its.flatMap((r) => r.finished).sort((a, b) => a.id - b.id);

  const engine = makeEngine();
  const d = new VirtualDriver(engine, noWrites);
  d.submit({ id: 1, tokens: tokens(1, 3000), maxTokens: 8 }, 0);
  d.submit({ id: 2, tokens: tokens(2, 500), maxTokens: 8 }, 0);
  const got = [];
  for (let i = 0; i < 10 && got.length < 2; i++) got.push(...d.advance(null).finished.map((f) => f.outcome));
  got.sort((a, b) => a.id - b.id);
  assert.deepEqual(got, want);
});

test('a request arriving during an iteration is admitted at the next iteration start, and idle time jumps to an arrival', () => {
  const engine = makeEngine();
  const d = new VirtualDriver(engine, noWrites);
  d.submit({ id: 1, tokens: tokens(1, 8000), maxTokens: 2 }, 0);
  const a = d.advance(0.001); // the first chunk's iteration starts at 0 and ends later
  const mid = a.nowS / 2;
  d.submit({ id: 2, tokens: tokens(2, 64), maxTokens: 1 }, mid);
  let out2;
  for (let i = 0; i < 20 && !out2; i++) out2 = d.advance(null).finished.find((f) => f.id === 2)?.outcome;
  assert.ok(out2);
  assert.equal(out2.arrival, mid);
  assert.equal(out2.firstScheduled, a.nowS, 'admitted at the next iteration start');
  // Idle: the next arrival starts the next iteration, not the time reached.
  for (let i = 0; i < 20 && engine.hasWork(); i++) d.advance(null);
  d.submit({ id: 3, tokens: tokens(3, 64), maxTokens: 1 }, 100);
  const r3 = d.advance(null).finished[0]!.outcome;
  assert.equal(r3.firstScheduled, 100);
});

test('an iteration-statistics backlog pauses the advance until /metrics is read', () => {
  const engine = makeEngine({ iterStatsMaxIterations: 4 });
  const d = new VirtualDriver(engine, noWrites);
  d.submit({ id: 1, tokens: tokens(1, 64), maxTokens: 50 }, 0);
  const a = d.advance(null);
  assert.equal(a.statsBacklog, true);
  assert.equal(a.iterations, 2);
  assert.equal(engine.drainIterationStats().length, 2);
  assert.equal(d.advance(null).iterations, 2, 'runs on after the read');
});

test('requests submitted together are queued in the client\'s submission order, not the order they came in', () => {
  // One slot: whoever is queued first runs first. The network and the tokenizer deliver 2 before 1.
  const run = (order: Array<[number, number]>) => {
    const d = new VirtualDriver(makeEngine({ maxBatchSize: 1 }), noWrites);
    for (const [id, seq] of order) d.submit({ id, tokens: tokens(id, 256), maxTokens: 2 }, 0, seq);
    const first = d.advance(null).finished.map((f) => f.id);
    return first;
  };
  assert.deepEqual(run([[2, 1], [1, 0]]), [1]);
  assert.deepEqual(run([[1, 0], [2, 1]]), [1]);
  // Without submission numbers: arrival order (a client that sends none, e.g. curl).
  const d = new VirtualDriver(makeEngine({ maxBatchSize: 1 }), noWrites);
  d.submit({ id: 2, tokens: tokens(2, 256), maxTokens: 2 }, 0);
  d.submit({ id: 1, tokens: tokens(1, 256), maxTokens: 2 }, 0);
  assert.deepEqual(d.advance(null).finished.map((f) => f.id), [2]);
});
