import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateWorkload, REUSE_RATIO } from '../src/index.js';
import { promptsOfContext, requestsOf } from './helpers.js';

const params = { contexts: [40, 90], batches_per_context: 6, batch_sizes: [3, 8, 21], prompt_pool_size: 5, reuse_start_batch: 3, seed: 11 };

test('batches before reuse_start_batch walk the pool in order, the cursor carrying over', () => {
  const doc = generateWorkload(params);
  for (const context of params.contexts) {
    const pool = promptsOfContext(doc, context).slice(0, params.prompt_pool_size);
    const early = doc.batches.filter((b) => b.context_tokens === context).slice(0, params.reuse_start_batch);
    const used = early.flatMap((b) => b.requests.map((r) => r.prompt_id));
    assert.ok(used.length > params.prompt_pool_size, 'the walk wraps around the pool at least once');
    assert.deepEqual(used, used.map((_, k) => pool[k % pool.length]!.id));
  }
});

test('phases: cold exactly on a prompt\'s first use, reuse exactly on repeats; fresh prompts are new and used once', () => {
  const doc = generateWorkload(params);
  const seen = new Set<string>();
  const uses = new Map<string, number>();
  for (const { request, prompt } of requestsOf(doc)) uses.set(prompt.text, (uses.get(prompt.text) ?? 0) + 1);
  let fresh = 0;
  for (const { batch, request, prompt } of requestsOf(doc)) {
    assert.equal(request.phase, seen.has(prompt.text) ? 'reuse' : 'cold', request.request_id);
    seen.add(prompt.text);
    const pool = promptsOfContext(doc, batch.context_tokens).slice(0, params.prompt_pool_size);
    if (!pool.some((p) => p.id === prompt.id)) {
      fresh++;
      assert.equal(request.phase, 'cold', `${request.request_id}: fresh prompt is cold`);
      assert.equal(uses.get(prompt.text), 1, `${request.request_id}: fresh prompt used once`);
      const batchInContext = Number(/-b(\d+)-/.exec(request.request_id)![1]);
      assert.ok(batchInContext >= params.reuse_start_batch, 'fresh prompts only after reuse_start_batch');
    }
  }
  assert.ok(fresh > 0, 'the sample has fresh prompts');
});

test('prompts are distinct from their first two tokens on, so no two share a first KV block', () => {
  const doc = generateWorkload({ ...params, contexts: [2, 40, 300] });
  const heads = doc.prompts.map((p) => p.text.split(' ').slice(1, 3).join(' '));
  assert.equal(new Set(heads).size, doc.prompts.length);
});

test('after reuse_start_batch, fresh prompts make up about 30% of requests', () => {
  // 400 batches of 16 = 6400 draws; sd of the share is sqrt(0.21 / 6400) = 0.0057, so ±0.03 is
  // over 5 sd. The seeds are fixed, so the test cannot flake; it fails if the ratio is wrong.
  for (const seed of [1, 42, 2024]) {
    const doc = generateWorkload({ contexts: [8], batches_per_context: 400, batch_sizes: [16], prompt_pool_size: 4, reuse_start_batch: 0, seed });
    const requests = requestsOf(doc);
    const pool = new Set(promptsOfContext(doc, 8).slice(0, 4).map((p) => p.id));
    const freshShare = requests.filter((r) => !pool.has(r.prompt.id)).length / requests.length;
    assert.ok(Math.abs(freshShare - (1 - REUSE_RATIO)) < 0.03, `seed ${seed}: fresh share ${freshShare}`);
    // Pool picks are uniform: each of the 4 pool prompts gets about a quarter of the reuses.
    const poolUses = requests.filter((r) => pool.has(r.prompt.id));
    for (const id of pool) {
      const share = poolUses.filter((r) => r.prompt.id === id).length / poolUses.length;
      assert.ok(Math.abs(share - 0.25) < 0.04, `seed ${seed}: ${id} share ${share}`);
    }
  }
});
