/**
 * A run followed the moment it was accepted (GET /runs/:id, /runs/:id/events, the live page): its
 * `accepted` event is on the bus but not ingested yet, and the aggregator holds the request until the
 * commit instead of answering 404. Driven here step by step, so the race is taken every time; the
 * end-to-end follow-at-once loop (apps/cli first-contact.test.ts) cannot force it: with this wait
 * removed (knownRunOrWait answering 404 at once) that loop still passed twice on this machine, while
 * this test failed at once ("NotFoundError: run ... not found").
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '@kvbench/common';
import { tempDir } from '@kvbench/testkit';
import { NoticeBus } from '../src/ingest/notice-bus.js';
import { knownRunOrWait } from '../src/routes/known-run.js';
import { openDatabase } from '../src/store/database.js';
import { createEventWriter } from '../src/store/writer.js';
import { runFixture } from './fixtures.js';

/** The decorations knownRunOrWait reads, with the bus's stream lookup answering `acceptedOnBus`. */
async function aggregator(acceptedOnBus: boolean) {
  const dir = await tempDir('kvbench-known-run-');
  const db = openDatabase(join(dir.path, 'agg.sqlite'));
  const notices = new NoticeBus();
  const app = {
    db,
    notices,
    runWait: { acceptedMs: 600_000, unknownMs: 0 },
    hasDecorator: (name: string) => name === 'nats',
    nats: { jsm: { streams: { getMessage: async () => (acceptedOnBus ? {} : Promise.reject(new Error('no message found'))) } } },
  } as unknown as FastifyInstance;
  const writer = createEventWriter(db);
  return { app, commit: (...events: Parameters<typeof writer.write>[0]) => notices.publish(writer.write(events)), close: async () => (db.close(), await dir.cleanup()) };
}

test('accepted on the bus, not stored yet: the request waits for the commit and answers the run', async () => {
  const agg = await aggregator(true);
  try {
    const run = runFixture({ runId: 'run-follow-at-once', samples: 1 });
    const held = knownRunOrWait(agg.app, run.runId);
    let answered = false;
    void held.then(() => (answered = true), () => (answered = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(answered, false, 'still waiting while the run is only on the bus');
    agg.commit(run.accepted);
    assert.equal((await held).run_id, run.runId);
  } finally {
    await agg.close();
  }
});

test('nothing on the bus either: 404 (NotFoundError) once the short bound passed', async () => {
  const agg = await aggregator(false);
  try {
    await assert.rejects(knownRunOrWait(agg.app, 'run-nobody-accepted'), NotFoundError);
  } finally {
    await agg.close();
  }
});
