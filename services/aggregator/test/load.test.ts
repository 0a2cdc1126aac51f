import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { ResultsDocument } from '@kvbench/common';
import { waitFor } from '@kvbench/testkit';
import type { FastifyInstance } from 'fastify';
import { runOrNull, startListeningAggregator, type Harness } from './harness.js';
import { runFixture } from './fixtures.js';
import { readSse } from './sse-client.js';

let h: Harness;
let app: FastifyInstance;
let base: string;

before(async () => ({ h, app, base } = await startListeningAggregator()));
after(() => h?.close());

test('ten runs ingested at once while /results and SSE streams are read: every sample once, no error', async () => {
  const RUNS = 10;
  const PER_RUN = 300;
  const runs = Array.from({ length: RUNS }, (_, i) => runFixture({ runId: `load-${i}`, label: i % 2 ? 'c2c' : 'pcie', samples: PER_RUN }));
  // Each run known before its subscriber connects (404 otherwise), then everything else at once.
  await h.publish(runs.map((r) => r.accepted));
  await waitFor(async () => (await Promise.all(runs.map((r) => runOrNull(app, r.runId)))).every(Boolean), { what: 'runs known' });

  const streams = runs.map((r) => readSse(`${base}/runs/${r.runId}/events`));
  const statuses: number[] = [];
  let reading = true;
  const reader = (async () => {
    while (reading) {
      for (const url of ['/results?summary=true', '/results', '/runs']) statuses.push((await fetch(base + url).then(async (res) => (await res.arrayBuffer(), res.status))));
    }
  })();
  await Promise.all(runs.map((r) => h.publish(r.all.slice(1), '', true)));
  const received = await Promise.all(streams);
  reading = false;
  await reader;

  assert.ok(statuses.length > 0 && statuses.every((s) => s === 200), `statuses: ${[...new Set(statuses)]}`);
  received.forEach((events, i) => {
    const ids = events.filter((e) => e.event === 'sample').map((e) => e.data.sample.request_id as string);
    assert.equal(ids.length, PER_RUN, `run ${i}: ${ids.length} samples`);
    assert.equal(new Set(ids).size, PER_RUN, `run ${i}: duplicates`);
    assert.equal(events.at(-1)!.event, 'completed', `run ${i} ends on completed`);
  });
  const doc = ResultsDocument.parse(await (await fetch(`${base}/results`)).json());
  const all = Object.values(doc.runs).flat();
  assert.equal(all.length, RUNS);
  for (const r of all) {
    assert.equal(r.samples.length, PER_RUN);
    assert.equal(new Set(r.samples.map((s) => s.request_id)).size, PER_RUN);
  }
  // Subscribers are gone once their streams ended: nothing left listening.
  await waitFor(() => runs.every((r) => app.notices.listenerCount(r.runId) === 0), { what: 'listeners released' });
});
