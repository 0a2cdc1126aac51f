import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEncoding } from 'js-tiktoken';
import fc from 'fast-check';
import { Cl100kTokenizer, OUTPUT_WORDS } from '../src/tokenizer.js';
import { chainHashes } from '../src/hash.js';

const reference = getEncoding('cl100k_base');
const tok = new Cl100kTokenizer();

test('piece-memoized encoding equals js-tiktoken cl100k_base on arbitrary text', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (s) => {
      assert.deepEqual(Array.from(tok.encode(s)), reference.encode(s, [], []));
    }),
    { numRuns: 300 },
  );
  const text = 'The KV cache  offloads\n\n blocks: 1234567 tokens, 3.14159, ÄÖÜ 日本語 <|endoftext|> done.';
  assert.deepEqual(Array.from(tok.encode(text)), reference.encode(text, [], []));
});

test('every generated word is exactly one token', () => {
  for (const w of OUTPUT_WORDS) assert.equal(reference.encode(w).length, 1, JSON.stringify(w));
});

test('block hashes chain: equal prefixes give equal hashes, one changed token changes every later block', () => {
  const a = tok.encode('alpha beta gamma delta '.repeat(100));
  const b = a.slice();
  b[130] = b[130]! + 1;
  const ha = chainHashes(a, 64), hb = chainHashes(b, 64);
  assert.equal(ha.length, Math.floor(a.length / 64));
  assert.deepEqual(hb.slice(0, 2), ha.slice(0, 2));
  for (let i = 2; i < ha.length; i++) assert.notEqual(hb[i], ha[i]);
  assert.equal(new Set(ha).size, ha.length, 'distinct positions hash apart even with repeated text');
});
