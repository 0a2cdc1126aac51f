import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { getJson, waitForReceived, startListeningAggregator, type Harness } from './harness.js';
import { runFixture } from './fixtures.js';
import { readSse, type SseEvent } from './sse-client.js';

let h: Harness;
let app: FastifyInstance;
let base: string;

before(async () => ({ h, app, base } = await startListeningAggregator()));
after(() => h?.close());

const requestIds = (events: SseEvent[]) => events.filter((e) => e.event === 'sample').map((e) => e.data.sample.request_id as string);

test('a late subscriber gets stored samples replayed, then live ones, and the stream ends on completed', async () => {
  const run = runFixture({ runId: 'sse-run', samples: 10 });
  const firstHalf = run.samples.slice(0, 5);
  await h.publish([run.accepted, run.started, ...firstHalf]);
  await waitForReceived(app, 'sse-run', 5);

  let publishedRest = false;
  const events = await readSse(`${base}/runs/sse-run/events`, {
    onEvent: async (e) => {
      // Once the replay is through, the rest goes out live.
      if (!publishedRest && e.event === 'sample' && e.data.sample.request_id === 'req-00004') {
        publishedRest = true;
        await h.publish([...run.samples.slice(5), run.engineStats, run.completed]);
      }
    },
  });
  assert.equal(events[0]!.event, 'state');
  assert.equal(events[1]!.event, 'started');
  assert.equal(events[1]!.data.expected_samples, 10);
  const ids = requestIds(events);
  assert.deepEqual(ids, run.samples.map((e) => (e.type === 'sample' ? e.sample.request_id : '')));
  const last = events.at(-1)!;
  assert.equal(last.event, 'completed');
  assert.equal(last.data.sample_count, 10);
  assert.ok(last.data.aggregate.ttft_p50_s > 0);
  assert.ok(events.some((e) => e.event === 'engine_stats'), 'live lifecycle events are forwarded');
  // Sample ids increase, so Last-Event-ID can resume.
  const sampleIds = events.filter((e) => e.event === 'sample').map((e) => Number(e.id));
  assert.deepEqual([...sampleIds].sort((a, b) => a - b), sampleIds);

  // Resume after the 7th sample: only the last three come, then completed.
  const resumed = await readSse(`${base}/runs/sse-run/events`, { headers: { 'last-event-id': String(sampleIds[6]) } });
  assert.deepEqual(requestIds(resumed), ['req-00007', 'req-00008', 'req-00009']);
  assert.equal(resumed.at(-1)!.event, 'completed');
  const byQuery = await readSse(`${base}/runs/sse-run/events?last_event_id=${sampleIds[8]}`);
  assert.deepEqual(requestIds(byQuery), ['req-00009']);
});

test('the stream follows a new attempt and ends on a final failure', async () => {
  const a1 = runFixture({ runId: 'sse-retry', samples: 4, attempt: 1 });
  await h.publish([a1.accepted, a1.started, a1.samples[0]!]);
  await waitForReceived(app, 'sse-retry', 1);
  const a2 = runFixture({ runId: 'sse-retry', samples: 4, attempt: 2 });
  let sent = false;
  const events = await readSse(`${base}/runs/sse-retry/events`, {
    onEvent: async (e) => {
      if (!sent && e.event === 'sample') {
        sent = true;
        await h.publish([a2.accepted, a2.started, a2.samples[0]!, {
          schema: 'kvbench.event', version: 1, run_id: 'sse-retry', attempt: 2, system_label: 'pcie',
          at: '2026-01-01T00:00:09.000Z', type: 'failed', error: 'engine died', log_tail: ['boom'], final: true,
        }]);
      }
    },
  });
  const started = events.filter((e) => e.event === 'started').map((e) => e.data.attempt);
  assert.deepEqual(started, [1, 2]);
  const attempts = events.filter((e) => e.event === 'sample').map((e) => e.data.attempt);
  assert.deepEqual(attempts, [1, 2]);
  assert.equal(events.at(-1)!.event, 'failed');
  assert.equal(events.at(-1)!.data.error, 'engine died');
  // No READ_TOKEN here: readers are anonymous, so the engine's log tail is withheld, with the reason.
  assert.deepEqual(events.at(-1)!.data.log_tail, []);
  assert.match(events.at(-1)!.data.log_tail_withheld, /READ_TOKEN/);
  const run = await getJson(app, '/runs/sse-retry');
  assert.equal(run.status, 'failed');
  assert.equal(run.attempts[1].log_tail, null);
  assert.match(run.attempts[1].log_tail_withheld, /READ_TOKEN/);
  assert.deepEqual(run.attempts.map((a: { status: string }) => a.status), ['abandoned', 'failed']);
});
