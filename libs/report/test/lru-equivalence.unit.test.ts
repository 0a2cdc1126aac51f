/** The O(1) LRU (src/hit-rate.ts) gives exactly the reference's figures (lru-reference.ts) on random workloads. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import { simulateLru, type BlockRequest } from '@kvbench/report';
import { simulateLruReference } from './lru-reference.js';

/** Prompts from a small pool (so blocks repeat), sharing prefixes, some with duplicated or private blocks. */
function randomRequests(r: () => number): BlockRequest[] {
  const int = (n: number) => Math.floor(r() * n);
  const prompts = Array.from({ length: 1 + int(12) }, (_, p) => {
    const shared = int(3); // prompts of one family share their first blocks
    return Array.from({ length: int(40) }, (_, k) => (k < 5 ? `fam${shared}#${k}` : `p${p}#${k}`));
  });
  return Array.from({ length: int(60) }, () => {
    const blocks = [...prompts[int(prompts.length)]!];
    if (blocks.length && r() < 0.1) blocks.push(blocks[int(blocks.length)]!); // a repeated key
    const req: BlockRequest = { blocks, lookups: blocks.length + int(2) };
    if (r() < 0.7) req.privateBlocks = int(8);
    return req;
  });
}

test('the O(1) LRU equals the reference on 2000 random workloads and pool sizes', () => {
  const r = seedrandom('lru-equivalence'); // the same cases on every run
  for (let i = 0; i < 2000; i++) {
    const reqs = randomRequests(r);
    const gpu = [0, 1, 2, 5, 17, 40, 200, Number.MAX_SAFE_INTEGER][Math.floor(r() * 8)]!;
    const host = [0, 0, 1, 3, 20, 1000][Math.floor(r() * 6)]!;
    assert.deepEqual(simulateLru(reqs, gpu, host), simulateLruReference(reqs, gpu, host), `case ${i}: gpu ${gpu}, host ${host}`);
  }
});
