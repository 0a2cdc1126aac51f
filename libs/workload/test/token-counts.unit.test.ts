import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  cl100kEncoder,
  countTokens,
  deriveVocabulary,
  generateWorkload,
  promptText,
  VOCABULARY_SIZE,
  VOCABULARY_WORDS,
} from '../src/index.js';

const encode = (text: string) => cl100kEncoder().encode(text);

test('every prompt of a workload with odd sizes encodes to exactly its context size', () => {
  const contexts = [1, 2, 3, 17, 63, 64, 65, 1000, 4099];
  const doc = generateWorkload({ contexts, batches_per_context: 3, batch_sizes: [2, 5], prompt_pool_size: 3, reuse_start_batch: 1, seed: 7 });
  const seenContexts = new Set<number>();
  for (const p of doc.prompts) {
    assert.equal(encode(p.text).length, p.context_tokens, `${p.id}: encoded length`);
    assert.equal(p.tokens, p.context_tokens, `${p.id}: recorded tokens`);
    seenContexts.add(p.context_tokens);
  }
  assert.deepEqual([...seenContexts], contexts);
});

test('a 32768-token prompt is exactly 32768 tokens', () => {
  const text = promptText(42, 3, 32768);
  assert.equal(encode(text).length, 32768);
});

test('random sizes and serials: encoded length equals the size asked for', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 700 }), fc.integer({ min: 0, max: 2 ** 28 - 1 }), fc.integer(), (tokens, serial, seed) => {
      assert.equal(encode(promptText(seed, serial, tokens)).length, tokens);
    }),
    { numRuns: 150 },
  );
});

test('countTokens equals a full encode on arbitrary text, including unicode and special-token strings', () => {
  const enc = cl100kEncoder();
  const fullEncode = (t: string) => enc.encode(t, [], []).length;
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (t) => assert.equal(countTokens(t), fullEncode(t))),
    { numRuns: 300 },
  );
  for (const t of ['', ' ', '\n\n  \n', "it's   done\r\n", '<|endoftext|> hi', '12345678 x', 'naïve café 東京 🙂', promptText(1, 2, 3000)]) {
    assert.equal(countTokens(t), fullEncode(t), JSON.stringify(t.slice(0, 40)));
  }
});

test('the committed vocabulary is what the encoder derives, and each word is one token', () => {
  assert.equal(VOCABULARY_WORDS.length, VOCABULARY_SIZE);
  assert.deepEqual([...VOCABULARY_WORDS], deriveVocabulary(VOCABULARY_SIZE));
  // Independent of deriveVocabulary: encode each word on its own and all of them in one text,
  // which checks that neighbouring words never merge.
  for (const w of VOCABULARY_WORDS) assert.equal(encode(' ' + w).length, 1, w);
  assert.equal(encode(VOCABULARY_WORDS.map((w) => ' ' + w).join('')).length, VOCABULARY_SIZE);
  assert.equal(encode([...VOCABULARY_WORDS].reverse().map((w) => ' ' + w).join('')).length, VOCABULARY_SIZE);
});
