import { Tiktoken } from 'js-tiktoken/lite';
import cl100k_base from 'js-tiktoken/ranks/cl100k_base';

/**
 * The cl100k_base encoder, built on first use: building it takes about a second
 * (it parses 100k ranks), so generation never needs it and only counting does.
 */
let encoder: Tiktoken | undefined;
export function cl100kEncoder(): Tiktoken {
  encoder ??= new Tiktoken(cl100k_base);
  return encoder;
}

/** cl100k_base's pre-tokenizer: BPE never merges across the pieces it cuts. */
let pieceRegex: RegExp | undefined;
const pieceCounts = new Map<string, number>();
const PIECE_CACHE_LIMIT = 1 << 18;

/**
 * Exact cl100k_base token count of `text`, equal to `encode(text).length` with no special
 * tokens recognised. It splits with the encoder's own pre-tokenizer regex and counts each piece
 * once (memoized): tiktoken encodes every piece independently, so the sum is exact, and a long
 * prompt made of recurring words costs a regex scan rather than a BPE run per word.
 */
export function countTokens(text: string): number {
  const enc = cl100kEncoder();
  pieceRegex ??= new RegExp(cl100k_base.pat_str, 'ug');
  pieceRegex.lastIndex = 0;
  let total = 0;
  for (const m of text.matchAll(pieceRegex)) {
    const piece = m[0];
    let n = pieceCounts.get(piece);
    if (n === undefined) {
      n = enc.encode(piece, [], []).length;
      if (pieceCounts.size < PIECE_CACHE_LIMIT) pieceCounts.set(piece, n);
    }
    total += n;
  }
  return total;
}
