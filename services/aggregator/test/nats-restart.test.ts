import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { ResultsDocument } from '@kvbench/common';
import { waitFor } from '@kvbench/testkit';
import type { FastifyInstance } from 'fastify';
import { getJson, startAggregator, waitForReceived, waitForRunStatus, type Harness } from './harness.js';
import { runFixture } from './fixtures.js';

let h: Harness;
let app: FastifyInstance;

before(async () => ({ h, app } = await startAggregator()));
after(() => h?.close());

test('nats-server restarted mid-run: the aggregator reconnects and no event is lost', async () => {
  const run = runFixture({ runId: 'restart-run', samples: 40 });
  await h.publish([run.accepted, run.started, ...run.samples.slice(0, 20)]);
  await waitForReceived(app, 'restart-run', 20);
  await h.nats.restart();
  // Published after the restart: the stream (file store) and the durable consumer survived it.
  // The test's publisher retries until its own connection and JetStream are back (same msgID, so no duplicate).
  await waitFor(
    () => h.publish([...run.samples.slice(20), run.engineStats, run.completed]).then(() => true, () => false),
    { timeoutMs: 60_000, intervalMs: 500, what: 'publish after restart' },
  );
  const done = await waitForRunStatus(app, 'restart-run', 'completed', 60_000);
  assert.equal(done.received_samples, 40);
  const doc = ResultsDocument.parse(await getJson(app, '/results?run_id=restart-run'));
  assert.equal(new Set(doc.runs.pcie![0]!.samples.map((s) => s.request_id)).size, 40);
});
