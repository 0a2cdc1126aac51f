/**
 * Errors keep their kind through runBenchmark: the host agent decides retry or final failure by it.
 * A bus hiccup while publishing a sample stays a BusError (retried; no `failed` event on the broken
 * bus), a refusal a ValidationError naming its field, an engine failure an EngineError.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BusError, EngineError, ValidationError, type RunEvent } from '@kvbench/common';
import { runBenchmark } from '@kvbench/runner';
import { collector, makeJob, tempDir, testSimulator, tinyWorkload } from './helpers.js';

let dir: { path: string; cleanup(): Promise<void> };
before(async () => {
  dir = await tempDir();
});
after(() => dir.cleanup());

test('a bus failure while publishing samples stays a BusError, and no failed event is published on the broken bus', async () => {
  const tried: RunEvent['type'][] = [];
  const emit = async (e: RunEvent) => {
    tried.push(e.type);
    if (e.type === 'sample') throw new BusError('could not publish sample event (nats: timeout)');
  };
  const c = collector();
  const err = await runBenchmark({
    job: makeJob({ engine: { kind: 'sim', options: { seed: 1 } } }), workload: tinyWorkload(), attempt: 1, emit, log: c.log,
    agent: { workDir: dir.path, simulator: testSimulator, collectEnvironment: false },
  }).then(() => assert.fail('the run should fail'), (e: unknown) => e);
  assert.ok(err instanceof BusError, `kept its kind: ${String(err)}`);
  assert.ok(!(err instanceof EngineError));
  assert.ok(!tried.includes('failed'), 'no failed event on the bus that just failed');
});

test('a refusal stays a ValidationError naming its field', async () => {
  const c = collector();
  const err = await runBenchmark({
    job: makeJob({ engine: { kind: 'sim', options: { seed: 'x' } } }), workload: tinyWorkload(), attempt: 1, emit: c.emit, log: c.log,
    agent: { workDir: dir.path, simulator: testSimulator, collectEnvironment: false },
  }).then(() => assert.fail('refused'), (e: unknown) => e);
  assert.ok(err instanceof ValidationError, String(err));
  assert.equal(err.field, 'engine.options.seed');
  assert.equal(c.events.filter((e) => e.type === 'failed').length, 1, 'the refusal is published as the run\'s failure');
});
