import { VOCABULARY_WORDS } from './vocabulary-words.js';
import { VOCABULARY_SIZE } from './vocabulary-derive.js';

/**
 * The generator's vocabulary as bytes, so prompt text is built by copying bytes into one buffer
 * instead of concatenating strings. Word i is ` ` + VOCABULARY_WORDS[i], one cl100k token.
 */
export interface VocabularyTable {
  size: number;
  /** size - 1: a word index is `random & mask`. */
  mask: number;
  /** All words, each with its leading space, back to back (ASCII). */
  bytes: Uint8Array;
  /** Word i is bytes[start[i] .. start[i + 1]). */
  start: Uint32Array;
  maxWordBytes: number;
}

let table: VocabularyTable | undefined;

export function vocabularyTable(): VocabularyTable {
  if (table) return table;
  if (VOCABULARY_WORDS.length !== VOCABULARY_SIZE) {
    throw new Error(`vocabulary has ${VOCABULARY_WORDS.length} words, expected ${VOCABULARY_SIZE}: run scripts/build-vocabulary.mjs`);
  }
  const joined = VOCABULARY_WORDS.map((w) => ' ' + w).join('');
  const bytes = new Uint8Array(Buffer.from(joined, 'latin1'));
  const start = new Uint32Array(VOCABULARY_SIZE + 1);
  let maxWordBytes = 0;
  for (let i = 0; i < VOCABULARY_SIZE; i++) {
    const len = VOCABULARY_WORDS[i]!.length + 1;
    start[i + 1] = start[i]! + len;
    maxWordBytes = Math.max(maxWordBytes, len);
  }
  table = { size: VOCABULARY_SIZE, mask: VOCABULARY_SIZE - 1, bytes, start, maxWordBytes };
  return table;
}
