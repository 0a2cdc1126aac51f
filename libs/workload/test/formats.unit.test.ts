import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cl100kEncoder,
  generateWorkload,
  parseWorkload,
  readWorkloadFile,
  serializeWorkload,
  summarizeWorkload,
  toSeedFormat,
  workloadId,
  writeWorkloadFile,
} from '../src/index.js';
import { requestsOf } from './helpers.js';

const params = { contexts: [50, 120], batches_per_context: 5, batch_sizes: [4, 9], prompt_pool_size: 4, reuse_start_batch: 2, delay_ms: 25, seed: 5 };

/** What must survive a format change: every request, its phase, its text, its batch. */
const replayView = (doc: ReturnType<typeof generateWorkload>) =>
  requestsOf(doc).map(({ batch, request, prompt }) => ({
    index: batch.index,
    context: batch.context_tokens,
    delay: batch.delay_ms,
    request_id: request.request_id,
    phase: request.phase,
    text: prompt.text,
    tokens: prompt.tokens,
  }));

test('native → seed → native keeps every request, phase, text and token count', () => {
  const doc = generateWorkload(params);
  const back = parseWorkload(JSON.parse(JSON.stringify(toSeedFormat(doc))));
  assert.equal(back.params, null);
  assert.equal(back.prompts.length, doc.prompts.length, 'prompts deduplicated by exact text');
  assert.deepEqual(replayView(back), replayView(doc));
});

test('the seed format is the original list shape', () => {
  const seed = toSeedFormat(generateWorkload(params));
  assert.equal(seed.length, 10);
  for (const b of seed) assert.deepEqual(Object.keys(b), ['batch_prompts', 'context_tokens', 'scheduled_delay_ms']);
  assert.equal(seed[0]!.scheduled_delay_ms, 25);
});

test('files: both formats are written and read back; the id is the native document\'s', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kvbench-workload-'));
  try {
    const doc = generateWorkload(params);
    const native = await writeWorkloadFile(join(dir, 'deep/native.json'), doc, 'native');
    const seed = await writeWorkloadFile(join(dir, 'seed.json'), doc, 'seed');
    const nativeText = await readFile(join(dir, 'deep/native.json'), 'utf8');
    assert.equal(nativeText, serializeWorkload(doc));
    assert.equal(native.bytes, Buffer.byteLength(nativeText));
    assert.equal(native.id, workloadId(doc));
    assert.equal(seed.id, native.id);
    const seedText = await readFile(join(dir, 'seed.json'), 'utf8');
    assert.equal(seed.bytes, Buffer.byteLength(seedText));
    // Laid out like the original's json.dumps(indent=2), and the same data as toSeedFormat.
    assert.equal(seedText, JSON.stringify(toSeedFormat(doc), null, 2) + '\n');
    assert.deepEqual(await readWorkloadFile(join(dir, 'deep/native.json')), doc);
    assert.deepEqual(replayView(await readWorkloadFile(join(dir, 'seed.json'))), replayView(doc));
    await writeFile(join(dir, 'broken.json'), '{"schema": ');
    await assert.rejects(readWorkloadFile(join(dir, 'broken.json')), { name: 'ValidationError', field: '(root)' });
    await assert.rejects(readWorkloadFile(join(dir, 'missing.json')), { name: 'NotFoundError' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('concurrent writes in one process do not mix their bytes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kvbench-workload-'));
  try {
    const docs = [1, 2, 3].map((seed) => generateWorkload({ ...params, contexts: [3000, 200], seed }));
    await Promise.all(docs.flatMap((d, i) => [
      writeWorkloadFile(join(dir, `n${i}.json`), d, 'native'),
      writeWorkloadFile(join(dir, `s${i}.json`), d, 'seed'),
    ]));
    for (const [i, d] of docs.entries()) {
      assert.equal(await readFile(join(dir, `n${i}.json`), 'utf8'), serializeWorkload(d));
      assert.equal(await readFile(join(dir, `s${i}.json`), 'utf8'), JSON.stringify(toSeedFormat(d), null, 2) + '\n');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('summary counts prompts, requests, tokens and bytes', () => {
  const doc = generateWorkload(params);
  const s = summarizeWorkload(doc);
  const requests = requestsOf(doc);
  assert.equal(s.id, workloadId(doc));
  assert.equal(s.requests, requests.length);
  assert.equal(s.prompts, doc.prompts.length);
  assert.equal(s.batches, 10);
  assert.deepEqual(s.contexts, [50, 120]);
  assert.equal(s.bytes, Buffer.byteLength(serializeWorkload(doc)));
  assert.equal(s.request_tokens, requests.reduce((n, r) => n + r.batch.context_tokens, 0));
  assert.deepEqual(s.params, doc.params);
});

test('a seed file with repeated text marks the repeats as reuse and counts tokens exactly', () => {
  const doc = parseWorkload({
    batches: [
      { batch_prompts: ['hello world', 'naïve 東京 text', 'hello world'], context_tokens: 8 },
      { batch_prompts: ['naïve 東京 text'], context_tokens: 8, scheduled_delay_ms: 5, extra: 'kept out' },
    ],
  });
  assert.deepEqual(doc.batches.map((b) => b.requests.map((r) => [r.request_id, r.phase])), [
    [['c8-b0-r00', 'cold'], ['c8-b0-r01', 'cold'], ['c8-b0-r02', 'reuse']],
    [['c8-b1-r00', 'reuse']],
  ]);
  assert.deepEqual(doc.prompts.map((p) => p.tokens), doc.prompts.map((p) => cl100kEncoder().encode(p.text).length));
  assert.equal(doc.batches[1]!.delay_ms, 5);
});

/** A small valid native document, deep-copied so each case can break one field. */
function validNative(): any {
  return JSON.parse(serializeWorkload(generateWorkload({ contexts: [10], batches_per_context: 3, batch_sizes: [3], prompt_pool_size: 2, reuse_start_batch: 1, seed: 3 })));
}

test('malformed documents are rejected with the offending field named', () => {
  const cases: Array<[string, (d: any) => unknown]> = [
    ['schema', (d) => ((d.schema = 'other'), d)],
    ['prompts.0.tokens', (d) => ((d.prompts[0].tokens = -1), d)],
    ['batches.1.requests', (d) => ((d.batches[1].requests = []), d)],
    ['batches.2.requests.0.prompt_id', (d) => ((d.batches[2].requests[0].prompt_id = 'nope'), d)],
    ['batches.0.requests.0.phase', (d) => ((d.batches[0].requests[0].phase = 'reuse'), d)],
    ['batches.0.requests.2.phase', (d) => ((d.batches[0].requests[2].phase = 'cold'), d)],
    ['batches.1.requests.1.request_id', (d) => ((d.batches[1].requests[1].request_id = d.batches[0].requests[0].request_id), d)],
    ['batches.1.index', (d) => ((d.batches[1].index = 7), d)],
    ['prompts.1.id', (d) => ((d.prompts[1].id = d.prompts[0].id), d)],
    ['0.context_tokens', () => [{ batch_prompts: ['x'], context_tokens: 0 }]],
    ['batches.0.batch_prompts', () => ({ batches: [{ batch_prompts: [], context_tokens: 4 }] })],
    ['(root)', () => 42],
  ];
  assert.doesNotThrow(() => parseWorkload(validNative()));
  for (const [field, breakIt] of cases) {
    assert.throws(() => parseWorkload(breakIt(validNative())), { name: 'ValidationError', field }, field);
  }
});

test('verifyTokens catches a prompt whose recorded count is wrong', () => {
  const d = validNative();
  assert.doesNotThrow(() => parseWorkload(d, { verifyTokens: true }));
  d.prompts[1].tokens += 1;
  assert.doesNotThrow(() => parseWorkload(d), 'not checked unless asked');
  assert.throws(() => parseWorkload(d, { verifyTokens: true }), { name: 'ValidationError', field: 'prompts.1.tokens' });
});
