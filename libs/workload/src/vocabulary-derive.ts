import { cl100kEncoder } from './tokens.js';

/** How many words the generator draws from: a power of two so a word index is a bit mask. */
export const VOCABULARY_SIZE = 8192;

/**
 * The generator's vocabulary, derived from the encoder: of the tokens whose text is a space and
 * 2+ lowercase ASCII letters and that encode back to exactly that one token, the `size` shortest
 * (ties in rank order). cl100k's pre-tokenizer cuts ` ?\p{L}+` pieces, so a run of such words is
 * never merged: a text of n of them is n tokens. Shortest because bytes per token is what
 * generating, hashing, writing and sending prompts cost: the 8192 shortest average 4.9 bytes a
 * token, near English prose, against 7.4 for the 16384 most frequent.
 * Used by scripts/build-vocabulary.mjs and the tests.
 */
export function deriveVocabulary(size: number): string[] {
  const enc = cl100kEncoder();
  const words: string[] = [];
  for (let id = 0; id < 100_256; id++) {
    let text: string;
    try {
      text = enc.decode([id]);
    } catch {
      continue; // ids with no token (gaps in the rank table)
    }
    if (!/^ [a-z]{2,}$/.test(text)) continue;
    const back = enc.encode(text);
    if (back.length === 1 && back[0] === id) words.push(text.slice(1));
  }
  if (words.length < size) throw new Error(`cl100k_base has only ${words.length} suitable words, need ${size}`);
  // Array.prototype.sort is stable: equal lengths keep rank order.
  return words.sort((a, b) => a.length - b.length).slice(0, size);
}
