import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import type { RunResult, Sample } from '@kvbench/common';
import { successfulSample } from '@kvbench/testkit';
import { watchRun } from '../src/watch.js';

// A real HTTP server speaking the aggregator's /runs/:id/events protocol (state, started, sample with ids,
// completed | failed), which drops the first connection mid-run so the client must resume with Last-Event-ID.

const sample = (i: number): Sample =>
  successfulSample({
    request_id: `req-${i}`,
    prompt_id: `p${i}`,
    batch_index: i,
    context_tokens: i % 2 ? 8192 : 2048,
    phase: i < 4 ? 'cold' : 'reuse',
    scheduled_at_s: i * 0.2,
    ttft_s: (i + 1) * 0.01,
    latency_s: (i + 1) * 0.01 + 0.5,
    prompt_tokens_client: 100,
    prompt_tokens_server: 100,
  });
const N = 10;
const samples = Array.from({ length: N }, (_, i) => sample(i));
const result: RunResult = {
  aggregate: { throughput_req_per_s: 5, ttft_p50_s: null, ttft_p95_s: null, ttft_p99_s: null, latency_p50_s: null, latency_p95_s: null, latency_p99_s: null },
  log_metrics: { cache_hit_rate: 0.6, reused_blocks: 3, offloaded_blocks: 7, observed_offload_bandwidth_gbps: 20, sources: {}, null_reasons: {} },
  samples,
  run_meta: { run_id: 'r1', attempt: 1, system_label: 'c2c', model: 'm', workload_id: 'w', simulated: true, percentile_method: 'linear' },
};

let server: Server;
let base: string;
const lastEventIds: (string | undefined)[] = [];

function events(req: IncomingMessage, res: ServerResponse, runId: string) {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  const send = (event: string, data: unknown, id?: number) => res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const last = req.headers['last-event-id'] as string | undefined;
  if (runId === 'r1') lastEventIds.push(last);
  send('state', { run_id: runId, status: 'running', expected_samples: N, current_attempt: 1 });
  res.write(': keep-alive\n\n');
  send('started', { attempt: 1, expected_samples: N });
  if (runId === 'r2') {
    send('sample', { attempt: 1, sample: samples[0] }, 1);
    send('failed', { attempt: 1, error: 'engine died', final: true });
    return res.end();
  }
  const from = last ? Number(last) : 0;
  for (let i = from; i < N; i++) {
    send('sample', { attempt: 1, sample: samples[i] }, i + 1);
    // Connection lost after 6 samples (once they are on the wire: a reset before that loses them, and the client rightly starts over).
    if (!last && i === 5) return void setTimeout(() => res.destroy(), 100);
  }
  send('completed', { attempt: 1, sample_count: N, aggregate: {} });
  res.end();
}

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const m = /^\/runs\/([^/]+)\/events$/.exec(url.pathname);
    if (m && (m[1] === 'r1' || m[1] === 'r2')) return events(req, res, m[1]);
    if (url.pathname === '/results' && url.searchParams.get('run_id') === 'r1') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ runs: { c2c: [result] } }));
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":"NOT_FOUND"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

function sink() {
  let text = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { w, text: () => text };
}

test('watchRun: progress to the end across a dropped connection, then the run summary', async () => {
  const out = sink();
  const summary = sink();
  const r = await watchRun(base, 'r1', { out: out.w, summaryOut: summary.w });
  assert.equal(r.status, 'completed');
  assert.equal(r.samples, N, 'each sample counted once');
  assert.deepEqual(lastEventIds, [undefined, '6'], 'resumed after the last sample it had');
  const lines = out.text().trim().split('\n');
  // Not a terminal: one line per tenth of the run, the last one complete.
  assert.match(lines.at(-2)!, /^r1 █+ 10\/10 requests {2}TTFT p50 55\.0 ms$/);
  assert.match(out.text(), /ETA \d+ s/);
  assert.equal(lines.at(-1), 'run r1 completed');
  assert.match(summary.text(), /^Run r1 \(C2C, workload w\) {2}\[SIMULATED\]/);
  assert.match(summary.text(), /2K\s+cold\s+2\s+0\s+20\.0/);
  assert.match(summary.text(), /60\.0%/);
});

test('watchRun: a failed run ends with its error; an unknown run is NotFound', async () => {
  const out = sink();
  const r = await watchRun(base, 'r2', { out: out.w, summaryOut: null });
  assert.equal(r.status, 'failed');
  assert.equal(r.error, 'engine died');
  assert.match(out.text(), /run r2 failed: engine died/);
  await assert.rejects(watchRun(base, 'nope', { out: sink().w }), /run 'nope' not found/);
});
