import type { ScenarioWorkload, Segment, TokenPrompt, TokenSpace } from '@kvbench/common';
import { promptRefs } from './builder.js';

/**
 * A segment's token ids: a pure function of the token space (seed and range) and the segment's
 * id, so a document stores only ids and lengths and the same segment is the same tokens in every
 * prompt, on every machine. Generated as a stream, so the first k ids of a segment are the same
 * whatever its length: a partial block is a prefix of the full one.
 */
export function segmentTokens(space: TokenSpace, segmentId: string, length: number): Uint32Array {
  // sfc32 seeded by a 128-bit string hash: seeding through seedrandom's ARC4 cost ~30 µs a
  // segment, most of a short request's cost at 10k requests/s; per token it would dominate.
  let [a, b, c, d] = cyrb128(`kvbench/segment/${space.seed}/${segmentId}`);
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

/** cyrb128 (bryc): four 32-bit words from a string, well mixed, for seeding sfc32. */
function cyrb128(str: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/**
 * Builds prompts' token ids, computing each segment once. Scenario prompts repeat segments (every
 * turn resends the history), so the cache holds every segment of the document; a document's
 * segments together are its distinct tokens, 4 bytes each.
 */
export class PromptTokens {
  private readonly segments = new Map<string, Segment>();
  private readonly prompts: ReadonlyMap<string, TokenPrompt>;
  private readonly cache = new Map<string, Uint32Array>();
  /** Each segment's ids as JSON list text (no brackets): a prompt's JSON is these pieces joined. */
  private readonly jsonCache = new Map<string, string>();
  constructor(private readonly doc: Pick<ScenarioWorkload, 'token_space' | 'segments' | 'prompts'>) {
    for (const s of doc.segments) this.segments.set(s.id, s);
    this.prompts = new Map(doc.prompts.map((p) => [p.id, p]));
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
    for (const ref of promptRefs(prompt, this.prompts)) {
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
    for (const ref of promptRefs(prompt, this.prompts)) {
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
