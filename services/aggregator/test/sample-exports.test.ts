import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { RunEvent } from '@kvbench/common';
import { startListeningAggregator, waitForReceived, waitForRunStatus, type Harness } from './harness.js';
import { runFixture } from './fixtures.js';
import { csvField, SAMPLE_CSV_COLUMNS } from '../src/routes/sample-csv.js';

let h: Harness;
let app: FastifyInstance;
let base: string;
const N = 2600; // more than one storage page (2000) and many write chunks

before(async () => {
  ({ h, app, base } = await startListeningAggregator());
  const run = runFixture({ runId: 'export-run', samples: N });
  // One failed request whose error text would break naive CSV and run as a spreadsheet formula.
  const failed = run.samples[3] as Extract<RunEvent, { type: 'sample' }>;
  failed.sample = { ...failed.sample, ok: false, ttft_s: null, latency_s: null, error: '=HYPERLINK("x"), then\nboom' };
  await h.publish(run.all, '', true);
  await waitForRunStatus(app, 'export-run', 'completed', 60_000);
  const live = runFixture({ runId: 'running-run', samples: 10 });
  await h.publish([live.accepted, live.started, ...live.samples.slice(0, 4)]);
  await waitForReceived(app, 'running-run', 4);
});
after(async () => {
  await h?.close();
});

test('samples.jsonl streams every stored sample, one JSON object per line, in workload order', async () => {
  const res = await fetch(`${base}/runs/export-run/samples.jsonl`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^application\/x-ndjson/);
  // Streamed: no length known up front, sent chunked.
  assert.equal(res.headers.get('content-length'), null);
  assert.equal(res.headers.get('transfer-encoding'), 'chunked');
  const lines = (await res.text()).trimEnd().split('\n');
  assert.equal(lines.length, N);
  const samples = lines.map((l) => JSON.parse(l));
  assert.deepEqual(samples.map((s) => s.request_id), Array.from({ length: N }, (_, i) => `req-${String(i).padStart(5, '0')}`));
  assert.equal(samples[10].ttft_s, 1.1);
  assert.equal(samples[3].ok, false);
});

test('samples.csv: header, one row per sample, RFC 4180 quoting, formulas defused', async () => {
  const res = await fetch(`${base}/runs/export-run/samples.csv`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^text\/csv/);
  assert.match(res.headers.get('content-disposition')!, /filename="export-run-samples.csv"/);
  assert.equal(res.headers.get('transfer-encoding'), 'chunked');
  const text = await res.text();
  const rows = parseCsv(text);
  assert.deepEqual(rows[0], [...SAMPLE_CSV_COLUMNS]);
  assert.equal(rows.length, N + 1);
  const col = (name: string) => SAMPLE_CSV_COLUMNS.indexOf(name as never);
  const r10 = rows[11]!;
  assert.equal(r10[col('request_id')], 'req-00010');
  assert.equal(Number(r10[col('ttft_s')]), 1.1);
  assert.equal(r10[col('itl_s')], '[0.01,0.02]');
  const r3 = rows[4]!;
  assert.equal(r3[col('ok')], 'false');
  assert.equal(r3[col('ttft_s')], '');
  assert.equal(r3[col('error')], `'=HYPERLINK("x"), then\nboom`);
});

test('csvField quotes only when needed', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('-1'), "'-1");
  assert.equal(csvField(-1), '-1');
  assert.equal(csvField(null), '');
});

test('a running run exports what it has; unknown runs 404, bad ids 400', async () => {
  const partial = await (await fetch(`${base}/runs/running-run/samples.jsonl`)).text();
  assert.equal(partial.trimEnd().split('\n').length, 4);
  assert.equal((await fetch(`${base}/runs/nope/samples.csv`)).status, 404);
  assert.equal((await fetch(`${base}/runs/bad.id/samples.jsonl`)).status, 400);
  assert.equal((await app.inject('/runs/b%20ad/samples.csv')).statusCode, 400);
});

/** A strict RFC 4180 reader for the test (quoted fields may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  if (field || row.length) row.push(field), rows.push(row);
  return rows;
}
