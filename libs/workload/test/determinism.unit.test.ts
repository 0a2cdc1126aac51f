import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { generateWorkload, serializeWorkload, workloadId } from '../src/index.js';

const params = { contexts: [300, 64, 1000], batches_per_context: 5, batch_sizes: [8, 16, 32], prompt_pool_size: 16, reuse_start_batch: 3, seed: 42 };

test('the same parameters give byte-identical documents and the same id', () => {
  const a = serializeWorkload(generateWorkload(params));
  const b = serializeWorkload(generateWorkload({ ...params }));
  assert.equal(a, b);
  assert.equal(workloadId(generateWorkload(params)), workloadId(generateWorkload(params)));
  assert.match(workloadId(generateWorkload(params)), /^wl-[0-9a-f]{16}$/);
});

test('another seed changes the schedule and the text, and the id', () => {
  const a = generateWorkload(params);
  const b = generateWorkload({ ...params, seed: 43 });
  assert.notEqual(serializeWorkload(a), serializeWorkload(b));
  assert.notEqual(workloadId(a), workloadId(b));
  assert.notEqual(a.prompts[0]!.text, b.prompts[0]!.text);
});

test('generation is deterministic and well-formed for arbitrary small parameters', () => {
  const arb = fc.record({
    contexts: fc.uniqueArray(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 3 }),
    batches_per_context: fc.integer({ min: 1, max: 6 }),
    batch_sizes: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }),
    prompt_pool_size: fc.integer({ min: 1, max: 6 }),
    reuse_start_batch: fc.integer({ min: 0, max: 7 }),
    delay_ms: fc.integer({ min: 0, max: 500 }),
    seed: fc.integer(),
  });
  fc.assert(
    fc.property(arb, (p) => {
      const doc = generateWorkload(p);
      assert.equal(serializeWorkload(doc), serializeWorkload(generateWorkload(p)));
      assert.equal(doc.batches.length, p.contexts.length * p.batches_per_context);
      doc.batches.forEach((b, i) => {
        assert.equal(b.index, i);
        assert.equal(b.context_tokens, p.contexts[Math.floor(i / p.batches_per_context)]);
        assert.equal(b.delay_ms, p.delay_ms);
        assert.ok(p.batch_sizes.includes(b.requests.length), `batch size ${b.requests.length} not in ${p.batch_sizes}`);
      });
      const ids = doc.batches.flatMap((b) => b.requests.map((r) => r.request_id));
      assert.equal(new Set(ids).size, ids.length, 'request ids unique');
      assert.equal(new Set(doc.prompts.map((x) => x.text)).size, doc.prompts.length, 'prompt texts distinct');
      // Serialization is plain JSON that reads back to the same document.
      assert.deepEqual(JSON.parse(serializeWorkload(doc)), doc);
    }),
    { numRuns: 60 },
  );
});

test('request ids say context, batch within the context and position', () => {
  const doc = generateWorkload({ contexts: [32, 48], batches_per_context: 2, batch_sizes: [12], seed: 1 });
  assert.deepEqual(
    doc.batches.map((b) => [b.requests[0]!.request_id, b.requests[11]!.request_id]),
    [['c32-b0-r00', 'c32-b0-r11'], ['c32-b1-r00', 'c32-b1-r11'], ['c48-b0-r00', 'c48-b0-r11'], ['c48-b1-r00', 'c48-b1-r11']],
  );
});

test('parameters are validated and duplicate contexts are refused', () => {
  assert.throws(() => generateWorkload({ contexts: [] }), { name: 'ValidationError', field: 'contexts' });
  assert.throws(() => generateWorkload({ contexts: [5, 0] }), { name: 'ValidationError', field: 'contexts.1' });
  assert.throws(() => generateWorkload({ contexts: [5, 9, 5] }), { name: 'ValidationError', field: 'contexts.2' });
  assert.throws(() => generateWorkload({ contexts: [5], batch_sizes: [2.5] }), { name: 'ValidationError', field: 'batch_sizes.0' });
});
