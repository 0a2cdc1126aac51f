import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { type RunEvent } from '@kvbench/common';
import { EVENTS_STREAM } from '@kvbench/bus';
import { waitFor } from '@kvbench/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { openDatabase } from '../src/store/database.js';
import { LogCapture, getJson, runOrNull, startHarness, waitForReceived, waitForRunStatus, type Harness } from './harness.js';
import { runFixture } from './fixtures.js';
import { spawnAggregator } from './child-process.js';

let h: Harness;

before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

/** Publish many events with bounded concurrency (each publish waits for the stream's ack). */
async function publishMany(events: readonly RunEvent[], suffix = '', on: Harness = h): Promise<void> {
  for (let i = 0; i < events.length; i += 500) await on.publish(events.slice(i, i + 500), suffix, true);
}

test('aggregator killed with SIGKILL mid-ingest and restarted: results identical to a fault-free ingest', async (t) => {
  // A bus of its own: the other tests' consumers then do not read these 12,000 events again (they
  // did, and the poison test spent 20 s waiting for its consumer to get through them).
  const k = await startHarness();
  t.after(() => k.close());
  const runs = [runFixture({ runId: 'kill-a', samples: 6000 }), runFixture({ runId: 'kill-b', label: 'c2c', samples: 6000 })];
  const events = runs.flatMap((r) => r.all);
  await publishMany(events, '', k);

  const dbPath = join(k.dir, 'killed.sqlite');
  // Small batches: many commits, so the kill lands between two of them. The events the killed process
  // had taken but not acked come back after the ack wait: 3 s here, not the 30 s default, which was
  // most of this test's time (the path is the same: JetStream redelivers them to the restarted process).
  const env = { NATS_URL: k.nats.url, DB_PATH: dbPath, INGEST_MAX_BATCH: '50', INGEST_CONSUMER: 'killed', INGEST_ACK_WAIT_S: '3' };
  const first = await spawnAggregator(env);
  await waitFor(async () => {
    const r = await fetch(`${first.url}/runs/kill-a`);
    return r.ok && ((await r.json()) as { received_samples: number }).received_samples > 0;
  }, { timeoutMs: 120_000, intervalMs: 5, what: 'ingest under way' });
  assert.equal(await first.kill('SIGKILL'), 'SIGKILL');

  // The kill really was mid-ingest: the database holds part of the samples.
  const probe = openDatabase(dbPath);
  const storedAtKill = (probe.prepare('SELECT COUNT(*) AS n FROM samples').get() as { n: number }).n;
  probe.close();
  assert.ok(storedAtKill > 0 && storedAtKill < 12_000, `stored at kill: ${storedAtKill}`);
  t.diagnostic(`samples stored when killed: ${storedAtKill} of 12000`);

  const second = await spawnAggregator(env);
  try {
    for (const r of runs) {
      await waitFor(async () => {
        const res = await fetch(`${second.url}/runs/${r.runId}`);
        return res.ok && ((await res.json()) as { status: string }).status === 'completed';
      }, { timeoutMs: 60_000, what: `${r.runId} completed after restart` });
    }
    const afterFault = await (await fetch(`${second.url}/results`)).text();

    // Fault-free reference: the same events into a fresh database through its own consumer.
    const reference = await k.start({ env: { DB_PATH: join(k.dir, 'reference.sqlite'), INGEST_CONSUMER: 'reference' } });
    for (const r of runs) await waitForRunStatus(reference, r.runId, 'completed', 60_000);
    const faultFree = (await reference.inject({ method: 'GET', url: '/results' })).body;
    assert.equal(afterFault, faultFree);
    const doc = JSON.parse(afterFault);
    assert.equal(doc.runs.pcie[0].samples.length, 6000);
    assert.equal(new Set(doc.runs.pcie[0].samples.map((s: { request_id: string }) => s.request_id)).size, 6000);
  } finally {
    await second.kill('SIGTERM');
  }
});

test('SIGTERM closes gracefully: exit code 0', async () => {
  const p = await spawnAggregator({ NATS_URL: h.nats.url, DB_PATH: join(h.dir, 'term.sqlite'), INGEST_CONSUMER: 'term' });
  assert.equal(await p.kill('SIGTERM'), 0, p.output());
});

function chattrWorks(path: string): boolean {
  try {
    execFileSync('chattr', ['+i', path], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function ackPending(consumer: string): Promise<number> {
  const jsm = await jetstreamManager(h.nc);
  return (await jsm.consumers.info(EVENTS_STREAM, consumer)).num_ack_pending;
}

test('SQLite unwritable (immutable files): nothing acked, clear error, events stored once writable again', async (t) => {
  const dbPath = join(h.dir, 'readonly.sqlite');
  const logs = new LogCapture();
  const app = await h.start({ logs, env: { DB_PATH: dbPath, INGEST_CONSUMER: 'readonly', INGEST_RETRY_DELAY_MS: '200' } });
  const run = runFixture({ runId: 'ro-run', samples: 20 });
  await h.publish([run.accepted, run.started, ...run.samples.slice(0, 5)]);
  await waitForReceived(app, 'ro-run', 5);
  const files = [dbPath, `${dbPath}-wal`];
  if (!chattrWorks(dbPath)) return t.skip('chattr +i is not supported on this filesystem');
  // Immutable: even root cannot write, and writes through already open descriptors fail (EPERM).
  execFileSync('chattr', ['+i', ...files]);
  try {
    await h.publish([...run.samples.slice(5), run.engineStats, run.completed]);
    await waitFor(() => app.ingest!.stats.storageError !== null, { timeoutMs: 120_000, what: 'storage error seen' });
    const res = await app.inject({ url: '/health' });
    assert.equal(res.statusCode, 503, 'degraded is not healthy');
    const health = res.json();
    assert.equal(health.status, 'degraded');
    assert.match(health.ingest.storage_error, /SQLITE_/);
    assert.ok(logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('cannot store events in SQLite')), 'error logged');
    assert.equal((await runOrNull(app, 'ro-run')).received_samples, 5);
    assert.ok((await ackPending('readonly')) > 0, 'unstored events stay unacked');
  } finally {
    execFileSync('chattr', ['-i', ...files]);
  }
  const done = await waitForRunStatus(app, 'ro-run', 'completed');
  assert.equal(done.received_samples, 20);
  await waitFor(async () => (await ackPending('readonly')) === 0, { timeoutMs: 120_000, what: 'everything acked' });
  assert.equal((await getJson(app, '/health')).status, 'ok');
  const doc = await getJson(app, '/results?run_id=ro-run');
  assert.equal(doc.runs.pcie[0].samples.length, 20);
});

test('SQLite full (page limit reached): nothing acked, events stored once there is room', async () => {
  const db = openDatabase(join(h.dir, 'full.sqlite'));
  const app = await h.start({ deps: { db }, env: { INGEST_CONSUMER: 'full', INGEST_RETRY_DELAY_MS: '200' } });
  try {
    const run = runFixture({ runId: 'full-run', samples: 400 });
    await h.publish([run.accepted, run.started]);
    await waitFor(async () => (await runOrNull(app, 'full-run'))?.expected_samples === 400, { timeoutMs: 120_000, what: 'started stored' });
    // What a full disk looks like to SQLite: no page can be added.
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
    await publishMany([...run.samples, run.completed]);
    await waitFor(() => app.ingest!.stats.storageError?.includes('SQLITE_FULL'), { timeoutMs: 120_000, what: 'SQLITE_FULL seen' });
    assert.ok((await ackPending('full')) > 0, 'unstored events stay unacked');
    assert.notEqual((await runOrNull(app, 'full-run')).status, 'completed');
    db.pragma('max_page_count = 1073741823');
    const done = await waitForRunStatus(app, 'full-run', 'completed');
    assert.equal(done.received_samples, 400);
  } finally {
    await app.close();
    db.close();
  }
});

test('an event SQLite refuses on its own is isolated: the rest of its batch is stored, it is retried then terminated', async () => {
  const db = openDatabase(join(h.dir, 'poison.sqlite'));
  // Stands in for any per-row refusal (a constraint, a bug): not a storage outage.
  db.exec(`CREATE TRIGGER refuse_poison BEFORE INSERT ON samples WHEN NEW.request_id = 'req-00002'
           BEGIN SELECT RAISE(ABORT, 'refused for the test'); END`);
  const logs = new LogCapture();
  const app = await h.start({ logs, deps: { db }, env: { INGEST_CONSUMER: 'poison', INGEST_RETRY_DELAY_MS: '20' } });
  try {
    const run = runFixture({ runId: 'poison-run', samples: 5 });
    await h.publish(run.all, '', true);
    await waitForReceived(app, 'poison-run', 4);
    await waitFor(() => logs.find((l) => l.msg === 'event refused by SQLite on every delivery: terminated'), { timeoutMs: 120_000, what: 'poison terminated' });
    await waitFor(async () => (await ackPending('poison')) === 0, { timeoutMs: 120_000, what: 'nothing left pending' });
    const run2 = await runOrNull(app, 'poison-run');
    assert.equal(run2.received_samples, 4);
    assert.equal(run2.status, 'running', 'a run missing a sample never completes');
    assert.equal(app.ingest!.stats.storageError, null, 'not reported as a storage outage');
  } finally {
    await app.close();
    db.close();
  }
});
