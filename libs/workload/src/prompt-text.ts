import { vocabularyTable, type VocabularyTable } from './vocabulary.js';
import { textRandom } from './rng.js';

/**
 * Words at the start of every prompt that spell its serial number (base-VOCABULARY_SIZE digits,
 * least significant first). Distinct serials give distinct first tokens, so two prompts never
 * share a first KV block by accident; least significant first keeps a prompt shorter than the
 * header distinct too, as long as the serial fits in its length.
 */
export const HEADER_WORDS = 2;

/**
 * Prompt bodies are sequences of random phrases (PHRASE_WORDS random words each, PHRASES of them
 * per seed) rather than of single words: copying a phrase is one memcpy, a word a byte loop.
 * Measured on the 2-core dev VM, filling a 131072-token prompt took ~6.5 ms word by word and
 * ~0.2 ms phrase by phrase (making the JS string from the bytes then costs ~3-4 ms either way).
 * Phrases recurring across prompts do not matter to prefix caching: KV block hashes chain from
 * the first token, and the header makes every prompt's first tokens distinct.
 */
export const PHRASE_WORDS = 16;
const PHRASES = 4096;

/** How many distinct prompts of `tokens` tokens the header can tell apart. */
export function distinctPromptCapacity(tokens: number): number {
  return Math.pow(vocabularyTable().size, Math.min(tokens, HEADER_WORDS));
}

class Writer {
  pos = 0;
  constructor(
    readonly out: Uint8Array,
    private readonly vocab: VocabularyTable,
  ) {}
  word(index: number): void {
    const { bytes, start } = this.vocab;
    const out = this.out;
    let pos = this.pos;
    for (let k = start[index]!, end = start[index + 1]!; k < end; k++) out[pos++] = bytes[k]!;
    this.pos = pos;
  }
}

/** The phrase table of one seed. */
class PhraseTable {
  readonly phrases: Uint8Array[] = [];
  constructor(seed: number, vocab: VocabularyTable) {
    const w = new Writer(new Uint8Array(PHRASES * PHRASE_WORDS * vocab.maxWordBytes), vocab);
    // Serial -1 is never a prompt's, so the table's stream is independent of every prompt's.
    const random = textRandom(seed, -1);
    for (let p = 0; p < PHRASES; p++) {
      const from = w.pos;
      for (let i = 0; i < PHRASE_WORDS; i++) w.word(random() & vocab.mask);
      this.phrases.push(w.out.subarray(from, w.pos));
    }
  }
}

let scratch = Buffer.alloc(1 << 20);
let cached: { seed: number; table: PhraseTable } | undefined;

/**
 * Text of exactly `tokens` cl100k_base tokens: the serial header, then random phrases, then single
 * random words for the remainder. Every word is one token and cl100k's pre-tokenizer never merges
 * space-prefixed letter words, so the count is exact by construction (tests encode whole prompts).
 */
export function promptText(seed: number, serial: number, tokens: number): string {
  const vocab = vocabularyTable();
  if (cached?.seed !== seed) cached = { seed, table: new PhraseTable(seed, vocab) };
  const { phrases } = cached.table;
  const need = tokens * vocab.maxWordBytes;
  if (scratch.length < need) scratch = Buffer.alloc(Math.max(need, scratch.length * 2));
  const w = new Writer(scratch, vocab);

  const headerWords = Math.min(HEADER_WORDS, tokens);
  let rest = serial;
  for (let i = 0; i < headerWords; i++) {
    w.word(rest % vocab.size);
    rest = Math.floor(rest / vocab.size);
  }
  const random = textRandom(seed, serial);
  let left = tokens - headerWords;
  for (; left >= PHRASE_WORDS; left -= PHRASE_WORDS) {
    const phrase = phrases[random() & (PHRASES - 1)]!;
    scratch.set(phrase, w.pos);
    w.pos += phrase.length;
  }
  for (; left > 0; left--) w.word(random() & vocab.mask);
  return scratch.toString('latin1', 0, w.pos);
}
