import seedrandom from 'seedrandom';
import type { ScenarioWorkload, Segment, TokenPrompt, TokenSpace } from '@kvbench/common';

/**
 * A segment's token ids: a pure function of the token space (seed and range) and the segment's
 * id, so a document stores only ids and lengths and the same segment is the same tokens in every
 * prompt, on every machine. Generated as a stream, so the first k ids of a segment are the same
 * whatever its length: a partial block is a prefix of the full one.
 */
export function segmentTokens(space: TokenSpace, segmentId: string, length: number): Uint32Array {
  const init = seedrandom(`kvbench/segment/${space.seed}/${segmentId}`);
  // sfc32 seeded from seedrandom (as the text generator does): ARC4 per token would dominate.
  let a = init.int32() >>> 0;
  let b = init.int32() >>> 0;
  let c = init.int32() >>> 0;
  let d = 1;
  const span = space.high - space.low;
  const out = new Uint32Array(length);
  for (let i = -12; i < length; i++) {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    // The first 12 outputs are weakly mixed: discarded. The modulo bias over a 2^32 draw is < 1e-5.
    if (i >= 0) out[i] = space.low + (t % span);
  }
  return out;
}

/**
 * Builds prompts' token ids, computing each segment once. Scenario prompts repeat segments (every
 * turn resends the history), so the cache holds every segment of the document; a document's
 * segments together are its distinct tokens, 4 bytes each.
 */
export class PromptTokens {
  private readonly segments = new Map<string, Segment>();
  private readonly cache = new Map<string, Uint32Array>();
  /** Each segment's ids as JSON list text (no brackets): a prompt's JSON is these pieces joined. */
  private readonly jsonCache = new Map<string, string>();
  constructor(private readonly doc: Pick<ScenarioWorkload, 'token_space' | 'segments'>) {
    for (const s of doc.segments) this.segments.set(s.id, s);
  }

  segment(id: string): Uint32Array {
    let ids = this.cache.get(id);
    if (!ids) {
      const s = this.segments.get(id);
      if (!s) throw new Error(`unknown segment '${id}'`);
      ids = segmentTokens(this.doc.token_space, id, s.tokens);
      this.cache.set(id, ids);
    }
    return ids;
  }

  /** The prompt's ids, in segment order. */
  ids(prompt: TokenPrompt): Uint32Array {
    const out = new Uint32Array(prompt.tokens);
    let at = 0;
    for (const ref of prompt.segments) {
      const seg = this.segment(ref.segment);
      const n = ref.tokens ?? seg.length;
      out.set(n === seg.length ? seg : seg.subarray(0, n), at);
      at += n;
    }
    if (at !== prompt.tokens) throw new Error(`prompt ${prompt.id}: segments hold ${at} tokens, says ${prompt.tokens}`);
    return out;
  }

  /**
   * The JSON array text of the prompt's ids (what a request body carries), from each segment's
   * text made once: a 128K-token turn of a long session is then a join of cached pieces rather
   * than 128K number-to-text conversions before every release.
   */
  json(prompt: TokenPrompt): string {
    const pieces: string[] = [];
    for (const ref of prompt.segments) {
      const seg = this.segment(ref.segment);
      const n = ref.tokens ?? seg.length;
      if (n < seg.length) {
        pieces.push(seg.subarray(0, n).join(','));
        continue;
      }
      let text = this.jsonCache.get(ref.segment);
      if (text === undefined) this.jsonCache.set(ref.segment, (text = seg.join(',')));
      pieces.push(text);
    }
    return `[${pieces.join(',')}]`;
  }
}
