import type { Release, ScenarioTags, ScenarioWorkload, Segment, SegmentRef, TokenPrompt, TokenSpace } from '@kvbench/common';

interface TrieNode {
  children: Map<string, { tokens: number; node: TrieNode }>;
}

/**
 * Assembles a scenario document: segments declared once, prompts as segment lists, requests in
 * document order. Each request's reusable prefix (the tokens at its start that an earlier request
 * of the document already sent, exact to the token since prompts are ids) is computed on a trie of
 * segment paths; a request with one is `reuse`, otherwise `cold`.
 */
export class ScenarioBuilder {
  private readonly segments = new Map<string, Segment>();
  private readonly prompts = new Map<string, TokenPrompt>();
  private readonly requests: ScenarioWorkload['requests'] = [];
  private readonly root: TrieNode = { children: new Map() };

  constructor(
    private readonly head: Pick<ScenarioWorkload, 'kind' | 'params' | 'max_concurrency'> & { token_space: TokenSpace },
  ) {}

  segment(id: string, tokens: number): string {
    const had = this.segments.get(id);
    if (had && had.tokens !== tokens) throw new Error(`segment ${id} declared with ${had.tokens} and ${tokens} tokens`);
    if (!had) this.segments.set(id, { id, tokens });
    return id;
  }

  segmentLength(id: string): number {
    const s = this.segments.get(id);
    if (!s) throw new Error(`unknown segment ${id}`);
    return s.tokens;
  }

  /**
   * A prompt of these segments (a ref's `tokens` below the segment's length takes a prefix of it),
   * after the whole of the `prefix` prompt when one is given.
   */
  prompt(id: string, refs: SegmentRef[], prefix?: string): TokenPrompt {
    const existing = this.prompts.get(id);
    if (existing) return existing;
    let tokens = 0;
    if (prefix !== undefined) {
      const before = this.prompts.get(prefix);
      if (!before) throw new Error(`prompt ${id}: prefix ${prefix} is not an earlier prompt`);
      tokens = before.tokens;
    }
    const segments = refs.map((r) => {
      const full = this.segmentLength(r.segment);
      const n = r.tokens ?? full;
      if (n > full) throw new Error(`prompt ${id}: ${n} tokens of segment ${r.segment}, which has ${full}`);
      tokens += n;
      return n === full ? { segment: r.segment } : { segment: r.segment, tokens: n };
    });
    const p: TokenPrompt = prefix !== undefined ? { id, tokens, prefix, segments } : { id, tokens, segments };
    this.prompts.set(id, p);
    return p;
  }

  request(r: { request_id: string; prompt: TokenPrompt; release: Release; tags: ScenarioTags; output_tokens?: number }): void {
    const reusable = this.reuse(r.prompt);
    this.requests.push({
      request_id: r.request_id,
      prompt_id: r.prompt.id,
      phase: reusable > 0 ? 'reuse' : 'cold',
      ...(r.output_tokens !== undefined ? { output_tokens: r.output_tokens } : {}),
      release: r.release,
      tags: { ...r.tags, reusable_prefix_tokens: reusable },
    });
  }

  get requestCount(): number {
    return this.requests.length;
  }

  /** Walks the prompt's segment path: tokens already on it count as reusable; then records the path. */
  private reuse(p: TokenPrompt): number {
    let node = this.root;
    let reusable = 0;
    let matching = true;
    for (const ref of promptRefs(p, this.prompts)) {
      const full = this.segmentLength(ref.segment);
      const n = ref.tokens ?? full;
      let child = node.children.get(ref.segment);
      if (matching) {
        if (child) reusable += Math.min(n, child.tokens);
        // Past a partial segment (here or before) the paths no longer coincide.
        if (!child || child.tokens < full || n < full) matching = false;
      }
      if (!child) node.children.set(ref.segment, (child = { tokens: n, node: { children: new Map() } }));
      else child.tokens = Math.max(child.tokens, n);
      if (n < full) break;
      node = child.node;
    }
    return reusable;
  }

  /** The prompts so far, by id (for resolving prefixes). */
  get promptsById(): ReadonlyMap<string, TokenPrompt> {
    return this.prompts;
  }

  build(): ScenarioWorkload {
    return {
      schema: 'kvbench.workload',
      version: 2,
      kind: this.head.kind,
      tokenizer: 'token-ids',
      token_space: this.head.token_space,
      params: this.head.params,
      max_concurrency: this.head.max_concurrency,
      sweep: null,
      segments: [...this.segments.values()],
      prompts: [...this.prompts.values()],
      requests: this.requests,
    };
  }
}

/** Every segment of a prompt in order: its prefix prompt's (recursively), then its own. */
export function* promptRefs(p: TokenPrompt, prompts: ReadonlyMap<string, TokenPrompt>): Generator<SegmentRef> {
  // Iteratively, oldest first: a 120-turn session is a chain of 120 prefixes.
  const chain: TokenPrompt[] = [];
  for (let q: TokenPrompt | undefined = p; q; q = q.prefix !== undefined ? prompts.get(q.prefix) : undefined) {
    chain.push(q);
    if (q.prefix !== undefined && !prompts.has(q.prefix)) throw new Error(`prompt ${q.id}: unknown prefix ${q.prefix}`);
  }
  for (let i = chain.length - 1; i >= 0; i--) yield* chain[i]!.segments;
}
