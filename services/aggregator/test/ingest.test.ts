import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { ResultsDocument } from '@kvbench/common';
import { AGGREGATOR_CONSUMER, EVENTS_STREAM, eventSubject } from '@kvbench/bus';
import { waitFor } from '@kvbench/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import type { FastifyInstance } from 'fastify';
import { LogCapture, getJson, waitForReceived, startHarness, waitForRunStatus, type Harness } from './harness.js';
import { runFixture } from './fixtures.js';

let h: Harness;
let app: FastifyInstance;
const logs = new LogCapture();

before(async () => {
  h = await startHarness();
  app = await h.start({ logs });
});
after(async () => {
  await h.close();
});

async function consumerIdle(): Promise<void> {
  const jsm = await jetstreamManager(h.nc);
  await waitFor(
    async () => {
      const info = await jsm.consumers.info(EVENTS_STREAM, AGGREGATOR_CONSUMER);
      if (process.env.DEBUG_CONSUMER) console.log(info.num_pending, info.num_ack_pending, info.num_redelivered, info.delivered, info.ack_floor);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    { timeoutMs: 30_000, what: 'aggregator consumer drained' },
  );
}

test('an event delivered twice (different msgID) is stored once', async () => {
  const run = runFixture({ runId: 'dup-run', samples: 6 });
  await h.publish(run.all);
  // The same events again, as a publisher retrying under new message ids would send them.
  await h.publish(run.all, '#again');
  await h.publish([run.samples[2]!, run.samples[2]!], '#third');
  await consumerIdle();
  const detail = await waitForRunStatus(app, 'dup-run', 'completed');
  assert.equal(detail.received_samples, 6);
  const doc = ResultsDocument.parse(await getJson(app, '/results?run_id=dup-run'));
  const ids = doc.runs.pcie![0]!.samples.map((s) => s.request_id);
  assert.equal(ids.length, 6);
  assert.equal(new Set(ids).size, 6);
  assert.equal(doc.runs.pcie!.length, 1);
});

test('malformed messages are terminated and logged with their subject; later events are stored', async () => {
  const before = app.ingest!.stats.terminated;
  const run = runFixture({ runId: 'after-bad', samples: 3 });
  await h.publishRaw(eventSubject('bad-json', 'sample'), '{not json');
  await h.publishRaw(eventSubject('bad-schema', 'sample'), JSON.stringify({ schema: 'kvbench.event', version: 1, type: 'sample' }));
  await h.publishRaw(eventSubject('bad-bytes', 'sample'), new Uint8Array([0xff, 0xfe, 0x00]));
  // A valid event under another run's subject is someone's bug, not data.
  await h.publishRaw(eventSubject('other-run', 'sample'), JSON.stringify(run.samples[0]));
  await h.publish(run.all);
  await waitForRunStatus(app, 'after-bad', 'completed');
  await consumerIdle();
  assert.equal(app.ingest!.stats.terminated - before, 4);
  for (const subject of ['kvbench.runs.bad-json.sample', 'kvbench.runs.bad-schema.sample', 'kvbench.runs.bad-bytes.sample', 'kvbench.runs.other-run.sample']) {
    const line = logs.find((l) => l.subject === subject);
    assert.ok(line, `logged ${subject}`);
    assert.equal(line.msg, 'malformed event terminated');
    assert.ok(typeof line.reason === 'string' && line.reason.length > 0);
  }
  assert.equal((await app.inject({ method: 'GET', url: '/runs/bad-json' })).statusCode, 404);
  assert.equal((await app.inject({ method: 'GET', url: '/runs/other-run' })).statusCode, 404);
  assert.equal((await getJson(app, '/health')).status, 'ok');
});

test('attempts: results use only the attempt that completed; the abandoned one is kept and marked', async () => {
  const a1 = runFixture({ runId: 'retry-run', samples: 6, attempt: 1 });
  // Attempt 1 measured different numbers before its agent died: they must not leak into results.
  const a1Samples = a1.samples.slice(0, 4).map((e) => (e.type === 'sample' ? { ...e, sample: { ...e.sample, ttft_s: 99, latency_s: 100 } } : e));
  await h.publish([a1.accepted, a1.started, ...a1Samples]);
  await waitForReceived(app, 'retry-run', 4);
  const running = await getJson(app, '/runs/retry-run');
  assert.equal(running.status, 'running');

  const a2 = runFixture({ runId: 'retry-run', samples: 6, attempt: 2 });
  await h.publish(a2.all);
  const detail = await waitForRunStatus(app, 'retry-run', 'completed');
  // A late redelivery of attempt 1 changes nothing.
  await h.publish(a1.samples.slice(4), '#late');
  await consumerIdle();

  const after = await getJson(app, '/runs/retry-run');
  assert.equal(after.result_attempt, 2);
  assert.deepEqual(
    after.attempts.map((a: { attempt: number; status: string; in_results: boolean; received_samples: number }) => [a.attempt, a.status, a.in_results, a.received_samples]),
    [[1, 'abandoned', false, 6], [2, 'completed', true, 6]],
  );
  assert.equal(detail.received_samples, 6);
  const doc = ResultsDocument.parse(await getJson(app, '/results?run_id=retry-run'));
  const samples = doc.runs.pcie![0]!.samples;
  assert.equal(samples.length, 6);
  assert.ok(samples.every((s) => s.ttft_s !== 99), 'no attempt-1 sample in results');
  assert.equal(doc.runs.pcie![0]!.aggregate.n_requests, 6);
  assert.equal((doc.runs.pcie![0]!.run_meta as { attempt: number }).attempt, 2);
});

test('a completed event that arrives before its samples completes the run only once all are stored', async () => {
  const run = runFixture({ runId: 'early-completed', samples: 5 });
  await h.publish([run.accepted, run.started, run.completed, ...run.samples.slice(0, 3)]);
  await waitForReceived(app, 'early-completed', 3);
  const partial = await getJson(app, '/runs/early-completed');
  assert.equal(partial.status, 'running');
  assert.deepEqual(await getJson(app, '/results?run_id=early-completed'), { runs: {} });
  await h.publish(run.samples.slice(3));
  const done = await waitForRunStatus(app, 'early-completed', 'completed');
  assert.equal(done.received_samples, 5);
});
