/**
 * Tokenization inside the simulator: exact cl100k_base token ids (js-tiktoken), so prompt_tokens
 * matches the client's count and prefix reuse works on real token boundaries.
 *
 * Speed: js-tiktoken's BPE runs at well under 1M tokens/s, too slow for 128K-token prompts.
 * cl100k_base's pre-tokenizer regex cuts text into pieces that BPE never merges across, so each
 * distinct piece is encoded once and memoized; a prompt then costs one regex scan (several M
 * tokens/s). The result equals `encode(text)` with no special tokens recognised.
 *
 * The server runs this in a worker thread (tokenizer-worker.ts) so a long prompt never stalls
 * token emission of the streams already running.
 */
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k_base from 'js-tiktoken/ranks/cl100k_base';

const PIECE_CACHE_LIMIT = 1 << 18;

export class Cl100kTokenizer {
  private readonly enc = new Tiktoken(cl100k_base);
  private readonly pieces = new Map<string, number[]>();
  private readonly re = new RegExp(cl100k_base.pat_str, 'ug');

  encode(text: string): Uint32Array {
    let out = new Uint32Array(Math.max(16, text.length >> 2));
    let n = 0;
    this.re.lastIndex = 0;
    for (const m of text.matchAll(this.re)) {
      const piece = m[0];
      let ids = this.pieces.get(piece);
      if (ids === undefined) {
        ids = this.enc.encode(piece, [], []);
        if (this.pieces.size < PIECE_CACHE_LIMIT) this.pieces.set(piece, ids);
      }
      if (n + ids.length > out.length) {
        const bigger = new Uint32Array(Math.max(out.length * 2, n + ids.length));
        bigger.set(out.subarray(0, n));
        out = bigger;
      }
      for (const id of ids) out[n++] = id;
    }
    return out.slice(0, n);
  }

  decode(ids: readonly number[]): string {
    return this.enc.decode([...ids]);
  }
}

/**
 * Words the simulator "generates": each is one cl100k_base token with its leading space, so
 * completion_tokens equals the number of words emitted (checked in tests).
 */
export const OUTPUT_WORDS: readonly string[] = [
  ' the', ' cache', ' block', ' token', ' model', ' memory', ' host', ' device', ' link', ' time',
  ' first', ' data', ' layer', ' value', ' key', ' page', ' pool', ' fast', ' slow', ' copy',
  ' and', ' of', ' to', ' in', ' is', ' on', ' for', ' with', ' from', ' by',
];
