/** The block-level LRU predictor against hand-worked cases. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blockRequestsOf, predictHitRate, simulateLru, type BlockRequest } from '@kvbench/report';
import { run, sample } from './fixtures.js';

/** D documents of `blocks` full blocks each, `repeats` passes, in tile order (A B C A B C) or interleaved (A A B B C C). */
function docs(d: number, blocks: number, repeats: number, order: 'tile' | 'interleave'): BlockRequest[] {
  const doc = (i: number): BlockRequest => ({ blocks: Array.from({ length: blocks }, (_, k) => `doc${i}#${k}`), lookups: blocks });
  const out: BlockRequest[] = [];
  if (order === 'tile') for (let r = 0; r < repeats; r++) for (let i = 0; i < d; i++) out.push(doc(i));
  else for (let i = 0; i < d; i++) for (let r = 0; r < repeats; r++) out.push(doc(i));
  return out;
}

test('tile order over a working set of 1.5 G: no GPU hit at all; the host cache catches every repeat', () => {
  // G = 40 blocks; 6 documents of 10 blocks = 60 blocks = 1.5 G. Each document comes back after the 5
  // others (50 blocks) have pushed it out of the GPU pool: LRU's worst case.
  const reqs = docs(6, 10, 3, 'tile');
  const gpuOnly = simulateLru(reqs, 40, 0);
  assert.equal(gpuOnly.lookups, 180);
  assert.equal(gpuOnly.gpu_hits, 0);
  assert.equal(gpuOnly.hit_rate, 0);
  // With a host cache of 0.5 G or more behind it, every block of passes 2 and 3 is onboarded from host.
  const withHost = simulateLru(reqs, 40, 20);
  assert.equal(withHost.gpu_hits, 0);
  assert.equal(withHost.host_hits, 120);
  assert.equal(withHost.hit_rate, 120 / 180);
  // Too small a host cache thrashes as well: its LRU drops each block before it comes back.
  assert.equal(simulateLru(reqs, 40, 10).hit_rate, 0);
});

test('interleaved order over the same working set: every repeat hits on the GPU', () => {
  const reqs = docs(6, 10, 3, 'interleave');
  const r = simulateLru(reqs, 40, 0);
  // Per document: the first pass misses 10, the next two hit 20 → 120 of 180.
  assert.equal(r.gpu_hits, 120);
  assert.equal(r.hit_rate, 120 / 180);
  // An infinite cache reaches the same: the workload's own reuse.
  assert.equal(simulateLru(reqs, Number.MAX_SAFE_INTEGER, 0).hit_rate, 120 / 180);
});

test('reuse is a prefix: after the first missing block nothing counts, as the hash chain does', () => {
  const a: BlockRequest = { blocks: ['x0', 'x1', 'x2'], lookups: 3 };
  const b: BlockRequest = { blocks: ['x0', 'y1', 'x2'], lookups: 4 };
  const r = simulateLru([a, b], 100, 0);
  assert.equal(r.gpu_hits, 1); // x0 only; x2 comes after the miss at y1
  assert.equal(r.lookups, 7);
});

test('from samples: blocks per prompt, partial last block looked up but never reused; measured beside predicted, disagreement flagged', () => {
  // 3 prompts of 130 tokens (2 full blocks of 64 + 2 tokens), sent A B C A B C.
  const ids = ['A', 'B', 'C', 'A', 'B', 'C'];
  const samples = ids.map((p, i) => sample({ request_id: `r${i}`, prompt_id: p, ttft_s: 0.1, prompt_tokens_client: 130, scheduled_at_s: i, batch_index: i }));
  const reqs = blockRequestsOf(samples, 64);
  // 130 prompt + 16 generated tokens: 3 blocks held while it runs, the 2 full prompt blocks stored → 1 private.
  assert.deepEqual(reqs[0], { blocks: ['A#0', 'A#1'], lookups: 3, privateBlocks: 1 });
  // GPU pool of 4 blocks holds 2 prompts: tile order over 3 of them thrashes.
  const meta = { kv_pools: { gpu_blocks: 4, host_blocks: 8, tokens_per_block: 64, source: 'test' } };
  const agree = predictHitRate('pcie', run('pcie', 'r1', samples, meta, { cache_hit_rate: 12 / 18 - 0.05 }));
  assert.equal(agree.gpu_only!.hit_rate, 0);
  assert.equal(agree.gpu_and_host!.hit_rate, 6 / 18); // 2nd pass: 2 of 3 blocks of each prompt, from host
  assert.equal(agree.infinite!.hit_rate, 6 / 18);
  const off = predictHitRate('pcie', run('pcie', 'r1', samples, meta, { cache_hit_rate: 0.9 }));
  assert.equal(off.disagrees, true);
  assert.match(off.note, /points apart/);
  const close = predictHitRate('pcie', run('pcie', 'r1', samples, meta, { cache_hit_rate: 0.3 }));
  assert.equal(close.disagrees, false);
  // Without pool sizes in the run, no prediction, and why.
  const none = predictHitRate('pcie', run('pcie', 'r1', samples));
  assert.equal(none.gpu_and_host, null);
  assert.match(none.null_reasons.predicted!, /no KV pool sizes/);
});

test('scenario workloads: a session\'s turns share their history; a document is shared up to its reusable prefix', () => {
  const turn = (sess: string, t: number, tokens: number, i: number) =>
    sample({ request_id: `${sess}-${t}`, prompt_id: `${sess}-${t}`, ttft_s: 0.1, prompt_tokens_client: tokens, scheduled_at_s: i, scenario: { kind: 'multiturn', session_id: sess, turn: t } } as never);
  const reqs = blockRequestsOf([turn('a', 1, 128, 0), turn('a', 2, 256, 1)], 64);
  assert.deepEqual(reqs[1]!.blocks, ['session:a#0', 'session:a#1', 'session:a#2', 'session:a#3']);
  assert.equal(simulateLru(reqs, 100, 0).gpu_hits, 2, 'turn 2 reuses turn 1\'s two blocks');
  // Sessions starting with one system prompt: a later session's first turn shares its first blocks.
  const withPrompt = (sess: string, t: number, tokens: number, i: number, reusable: number) =>
    sample({ request_id: `${sess}-${t}`, prompt_id: `${sess}-${t}`, ttft_s: 0.1, prompt_tokens_client: tokens, scheduled_at_s: i, scenario: { kind: 'multiturn', session_id: sess, turn: t, reusable_prefix_tokens: reusable } } as never);
  const shared = blockRequestsOf([withPrompt('a', 1, 192, 0, 0), withPrompt('b', 1, 192, 1, 128)], 64);
  assert.deepEqual(shared[0]!.blocks, ['sessions-shared#0', 'sessions-shared#1', 'session:a#2']);
  assert.deepEqual(shared[1]!.blocks, ['sessions-shared#0', 'sessions-shared#1', 'session:b#2']);
  assert.equal(simulateLru(shared, 100, 0).gpu_hits, 2, 'session b reuses the system prompt session a computed');

  const q = (doc: string, i: number, reusable: number) =>
    sample({ request_id: `q${i}`, prompt_id: `q${i}`, ttft_s: 0.1, prompt_tokens_client: 4096 + 100, scheduled_at_s: i, scenario: { kind: 'docqa', document_id: doc, round: 1 + Math.floor(i / 2), reusable_prefix_tokens: reusable } } as never);
  const dq = blockRequestsOf([q('d1', 0, 0), q('d1', 1, 4096)], 64);
  assert.equal(dq[0]!.blocks[63], 'doc:d1#63');
  assert.equal(dq[0]!.blocks[64], 'q0#64', 'the question is the request\'s own');
  assert.equal(simulateLru(dq, 1000, 0).gpu_hits, 64);
});
