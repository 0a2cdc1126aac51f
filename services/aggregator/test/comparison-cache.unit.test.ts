import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ComparisonCache } from '../src/routes/comparison-cache.js';

test('comparison cache: computed once per key, least recently used evicted first', () => {
  const cache = new ComparisonCache<number>(2);
  let computed = 0;
  const get = (k: string) => cache.getOrCompute(k, () => (computed++, k.length));
  assert.equal(get('a'), 1);
  assert.equal(get('a'), 1);
  assert.equal(computed, 1, 'a hit does not recompute');
  get('bb');
  get('a'); // a is now the most recent
  get('ccc'); // evicts bb
  assert.equal(cache.size, 2);
  get('a');
  assert.equal(computed, 3, 'a survived');
  get('bb');
  assert.equal(computed, 4, 'bb was evicted and recomputed');
});
