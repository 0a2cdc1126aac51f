/**
 * Predicted against measured cache hit rate. From the workload alone (which prompt each request
 * sends, in release order) kvbench replays a block-level LRU with the run's GPU pool, then with the
 * GPU pool and the host cache behind it, then with an infinite cache, and sets the engine's measured
 * figure beside them. A large gap means the engine is not doing what its configuration says (or the
 * model below leaves out what matters for this workload: see `model`).
 *
 * The model, after the engine's block manager (TensorRT-LLM's, which the simulator follows):
 * - a prompt of P tokens looks up ceil(P / tokens_per_block) blocks; only full blocks are stored;
 *   reuse is the longest stored prefix (the first miss ends it), like the hash chain;
 * - a block leaving the GPU pool (least recently used first) goes to the host cache, whose own least
 *   recently used block is dropped; a host hit moves the block back to the GPU;
 * - while a request runs, its private blocks (the partial last prompt block and the generated tokens'
 *   blocks: ceil((P + output) / tokens_per_block) − floor(P / tokens_per_block)) take GPU slots too,
 *   evicting cached blocks; a prompt whose first block is evicted is lost whole (prefix reuse);
 * - requests run one after another: prompts in flight together, which the engine cannot reuse from
 *   each other until their prefill ends, are not modelled.
 * hit rate = blocks reused (GPU or host) / blocks looked up, as kvCacheStats.cacheHitRate counts.
 */
import type { z } from 'zod';
import type { RunResult, Sample } from '@kvbench/common';
import type * as S from './schema.js';
import { isRecord, runMeta } from './meta.js';
import { scenarioOf } from './scenarios.js';

/** The run's KV pools in blocks. */
export type KvPools = z.infer<typeof S.KvPoolsSchema>;

export type LruResult = z.infer<typeof S.LruResultSchema>;

/** One request for the predictor: the blocks its prompt is made of, in prefix order. */
export interface BlockRequest {
  /** Full blocks' keys, in prefix order (equal keys = the same reusable KV). */
  blocks: string[];
  /** Blocks looked up (full blocks + a partial last one). */
  lookups: number;
  /** GPU blocks the request holds privately while it runs (partial prompt block, generated tokens). */
  privateBlocks?: number;
}

/**
 * Two LRU lists (the GPU pool, the host cache) threaded through one pair of prev/next arrays over
 * interned block ids: a block is in at most one tier, so every touch, hit and eviction is O(1).
 * (A Map in insertion order did this with delete + set, but V8 leaves deleted entries in place until
 * it rehashes, so finding the least recent one, `keys().next()`, walked past every block evicted
 * before it: seconds per report on the seed workload. libs/report/test/lru-reference.ts keeps that
 * version, and a test checks both give the same figures on random workloads.)
 */
class TieredLru {
  private prev = new Int32Array(1024);
  private next = new Int32Array(1024);
  /** 0: in neither tier, 1: GPU, 2: host. */
  private tier = new Uint8Array(1024);
  /** Least recent (head) and most recent (tail) of each tier, -1 when empty; sizes. */
  private readonly head = Int32Array.of(-1, -1, -1);
  private readonly tail = Int32Array.of(-1, -1, -1);
  private readonly size = new Int32Array(3);

  constructor(private readonly hostBlocks: number) {}

  tierOf(id: number): number {
    return id < this.tier.length ? this.tier[id]! : 0;
  }

  private grow(id: number): void {
    if (id < this.tier.length) return;
    let n = this.tier.length;
    while (n <= id) n *= 2;
    const g = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.prev = g(this.prev, (k) => new Int32Array(k));
    this.next = g(this.next, (k) => new Int32Array(k));
    this.tier = g(this.tier, (k) => new Uint8Array(k));
  }

  private unlink(id: number): void {
    const t = this.tier[id]!;
    if (t === 0) return;
    const p = this.prev[id]!;
    const n = this.next[id]!;
    if (p === -1) this.head[t] = n;
    else this.next[p] = n;
    if (n === -1) this.tail[t] = p;
    else this.prev[n] = p;
    this.tier[id] = 0;
    this.size[t] = this.size[t]! - 1;
  }

  /** Make `id` the most recent block of tier `t`. */
  private append(id: number, t: number): void {
    this.grow(id);
    this.unlink(id);
    const last = this.tail[t]!;
    this.prev[id] = last;
    this.next[id] = -1;
    if (last === -1) this.head[t] = id;
    else this.next[last] = id;
    this.tail[t] = id;
    this.tier[id] = t;
    this.size[t] = this.size[t]! + 1;
  }

  /** Drop `id` from the host cache (recomputed or onboarded: one copy of a block). */
  dropFromHost(id: number): void {
    if (this.tierOf(id) === 2) this.unlink(id);
  }

  /** `id` used on the GPU now: most recent there, then the pool is held to `gpuBlocks`. */
  touchGpu(id: number, gpuBlocks: number): void {
    this.append(id, 1);
    this.evictTo(gpuBlocks);
  }

  /** The least recent GPU blocks leave until `capacity` remain: to the host cache, whose own least recent block is dropped. */
  evictTo(capacity: number): void {
    const cap = Math.max(capacity, 0);
    while (this.size[1]! > cap) {
      const victim = this.head[1]!;
      if (this.hostBlocks > 0) {
        this.append(victim, 2);
        while (this.size[2]! > this.hostBlocks) this.unlink(this.head[2]!);
      } else this.unlink(victim);
    }
  }
}

/** Each request's block keys as small integers (equal keys, equal ids), once per request list: a report makes three passes over it. */
const internedLists = new WeakMap<readonly BlockRequest[], Int32Array[]>();
function interned(requests: readonly BlockRequest[]): Int32Array[] {
  let out = internedLists.get(requests);
  if (out) return out;
  const ids = new Map<string, number>();
  // Requests of one prompt share their key list (blockRequestsOf): interned once.
  const byList = new Map<readonly string[], Int32Array>();
  out = requests.map((r) => {
    const known = byList.get(r.blocks);
    if (known) return known;
    const a = new Int32Array(r.blocks.length);
    byList.set(r.blocks, a);
    r.blocks.forEach((k, i) => {
      let id = ids.get(k);
      if (id === undefined) ids.set(k, (id = ids.size));
      a[i] = id;
    });
    return a;
  });
  internedLists.set(requests, out);
  return out;
}

/** A two-tier LRU over block keys (the model above), one request after another. */
export function simulateLru(requests: readonly BlockRequest[], gpuBlocks: number, hostBlocks: number): LruResult {
  const blockIds = interned(requests);
  const lru = new TieredLru(hostBlocks);
  let lookups = 0;
  let gpuHits = 0;
  let hostHits = 0;
  requests.forEach((r, ri) => {
    lookups += r.lookups;
    let matching = true;
    for (const id of blockIds[ri]!) {
      const t = lru.tierOf(id);
      if (matching && t === 1) gpuHits++;
      else if (matching && t === 2) hostHits++;
      else matching = false;
      lru.dropFromHost(id);
      lru.touchGpu(id, gpuBlocks);
    }
    // Its private blocks push cached ones out while it runs; their slots are empty again after.
    if (r.privateBlocks) lru.evictTo(gpuBlocks - r.privateBlocks);
  });
  return {
    lookups,
    gpu_hits: gpuHits,
    host_hits: hostHits,
    hit_rate: lookups === 0 ? null : (gpuHits + hostHits) / lookups,
    gpu_hit_rate: lookups === 0 ? null : gpuHits / lookups,
  };
}

/**
 * Block requests from a run's samples, in release order. Which blocks are the same KV:
 * - the original batches: a prompt's blocks are its own (distinct prompts are distinct seeded texts
 *   and share no prefix), so equal keys are exactly the repeats;
 * - multi-turn sessions (sample.scenario.session_id): each turn's prompt extends the previous turn's
 *   (whole history, exact tokens), so block i of any turn of a session is the same KV; what a
 *   session's first turn already shares with earlier requests (its reusable prefix: the system prompt
 *   every session starts with) is one prefix for all sessions;
 * - shared documents (scenario.document_id): the document's blocks are shared, up to the longest
 *   reusable prefix (scenario.reusable_prefix_tokens) seen for it; the rest is the request's own;
 * - a trace's requests (scenario.hash_ids, as imported, each id covering trace_block_tokens
 *   tokens): equal ids are the same KV, and a hash id is a prefix hash (the same id is the same
 *   prefix), so the engine's block j is keyed by the hash ids its tokens fall in and its offset;
 * - a sample may also carry `prefix_blocks` (block keys), used as given.
 */
export function blockRequestsOf(samples: readonly Sample[], tokensPerBlock: number): BlockRequest[] {
  const ordered = [...samples].sort((a, b) => a.scheduled_at_s - b.scheduled_at_s || a.batch_index - b.batch_index || a.index_in_batch - b.index_in_batch);
  const docShared = new Map<string, number>();
  for (const s of ordered) {
    const t = scenarioOf(s) as { document_id?: string; reusable_prefix_tokens?: number } | null;
    if (t?.document_id && typeof t.reusable_prefix_tokens === 'number') docShared.set(t.document_id, Math.max(docShared.get(t.document_id) ?? 0, t.reusable_prefix_tokens));
  }
  // A session's first turn: its reusable prefix is the prompt shared by every session.
  const firstTurn = new Map<string, { turn: number; reusable: number }>();
  for (const s of ordered) {
    const t = scenarioOf(s) as { session_id?: string; turn?: number; reusable_prefix_tokens?: number } | null;
    if (!t?.session_id || typeof t.turn !== 'number') continue;
    const cur = firstTurn.get(t.session_id);
    if (!cur || t.turn < cur.turn) firstTurn.set(t.session_id, { turn: t.turn, reusable: t.reusable_prefix_tokens ?? 0 });
  }
  // The first session shares its system prompt with nobody yet: the longest first-turn prefix is everyone's.
  let sessionsShared = 0;
  for (const f of firstTurn.values()) sessionsShared = Math.max(sessionsShared, f.reusable);
  const promptKeys = new Map<string, string[]>();
  const keysOf = (s: Sample, full: number): string[] => {
    const given = (s as Record<string, unknown>)['prefix_blocks'];
    if (Array.isArray(given) && given.every((k) => typeof k === 'string')) return (given as string[]).slice(0, full);
    const t = scenarioOf(s) as { session_id?: string; document_id?: string; hash_ids?: number[]; trace_block_tokens?: number } | null;
    if (t?.hash_ids && t.trace_block_tokens) return traceBlockKeys(t.hash_ids, t.trace_block_tokens, tokensPerBlock, full);
    if (t?.session_id) {
      const shared = Math.floor(sessionsShared / tokensPerBlock);
      return Array.from({ length: full }, (_, i) => (i < shared ? `sessions-shared#${i}` : `session:${t.session_id}#${i}`));
    }
    if (t?.document_id) {
      const shared = Math.floor((docShared.get(t.document_id) ?? 0) / tokensPerBlock);
      return Array.from({ length: full }, (_, i) => (i < shared ? `doc:${t.document_id}#${i}` : `${s.request_id}#${i}`));
    }
    // One list per prompt and length, shared by its requests (the seed workload sends each prompt 3.6 times).
    const memo = `${s.prompt_id}\u0000${full}`;
    let keys = promptKeys.get(memo);
    if (!keys) promptKeys.set(memo, (keys = Array.from({ length: full }, (_, i) => `${s.prompt_id}#${i}`)));
    return keys;
  };
  return ordered.map((s) => {
    const tokens = s.prompt_tokens_client;
    const full = Math.floor(tokens / tokensPerBlock);
    const blocks = keysOf(s, full);
    const output = s.completion_tokens_server ?? s.completion_tokens_client;
    return { blocks, lookups: Math.ceil(tokens / tokensPerBlock), privateBlocks: Math.ceil((tokens + output) / tokensPerBlock) - full };
  });
}

/**
 * The engine's first `full` blocks of a trace request: block j covers tokens [j·tpb, (j+1)·tpb),
 * which fall in the trace's hash blocks floor(start / B) … floor((end − 1) / B); the key is those
 * ids and the offset into the first, so equal keys are equal tokens after an equal prefix.
 */
export function traceBlockKeys(hashIds: readonly number[], traceBlockTokens: number, tokensPerBlock: number, full: number): string[] {
  const keys: string[] = [];
  for (let j = 0; j < full; j++) {
    const start = j * tokensPerBlock;
    const first = Math.floor(start / traceBlockTokens);
    const last = Math.min(Math.floor((start + tokensPerBlock - 1) / traceBlockTokens), hashIds.length - 1);
    const ids = hashIds.slice(first, last + 1).join('+');
    keys.push(`h${ids}@${start - first * traceBlockTokens}`);
  }
  return keys;
}

/** Trace samples whose sharing cannot be known: imported before kvbench kept each line's hash_ids. */
function traceWithoutHashIds(samples: readonly Sample[]): number {
  let n = 0;
  for (const s of samples) {
    const t = scenarioOf(s) as { kind?: string; hash_ids?: unknown } | null;
    if (t?.kind === 'trace' && !Array.isArray(t.hash_ids)) n++;
  }
  return n;
}

const posInt = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null);

/**
 * The run's pools: what the engine reported (run_meta.kv_pools, from the simulator's /version), else
 * derived from the KV configuration (GPU pool = gpu_kv_max_tokens / tokens_per_block; the host cache
 * is in bytes, and its size in blocks needs the model's KV bytes per token, which only the engine knows).
 */
export function kvPoolsOf(run: RunResult): KvPools | null {
  const m = runMeta(run);
  const pools = isRecord(m['kv_pools']) ? m['kv_pools'] : null;
  if (pools && posInt(pools['gpu_blocks']) !== null && posInt(pools['tokens_per_block'])) {
    const host = posInt(pools['host_blocks']);
    return {
      tokens_per_block: posInt(pools['tokens_per_block'])!,
      gpu_blocks: posInt(pools['gpu_blocks'])!,
      host_blocks: host,
      source: typeof pools['source'] === 'string' ? pools['source'] : 'run_meta.kv_pools',
      null_reasons: host === null ? { host_blocks: 'the engine did not report its host cache in blocks' } : {},
    };
  }
  const kv = isRecord(m['kv_config']) ? m['kv_config'] : null;
  const tpb = posInt(kv?.['tokens_per_block']);
  const gpuTokens = posInt(kv?.['gpu_kv_max_tokens']);
  if (!tpb || gpuTokens === null) return null;
  const hostGb = typeof kv?.['host_cache_gb'] === 'number' ? kv['host_cache_gb'] : null;
  return {
    tokens_per_block: tpb,
    gpu_blocks: Math.floor(gpuTokens / tpb),
    host_blocks: hostGb === 0 ? 0 : null,
    source: 'run_meta.kv_config (gpu_kv_max_tokens / tokens_per_block)',
    null_reasons: hostGb === 0 ? {} : { host_blocks: 'host_cache_gb is in bytes; its size in blocks needs the KV bytes per token of the model, which this engine did not report' },
  };
}

export type HitRatePrediction = z.infer<typeof S.HitRatePredictionSchema>;

/** Block lookups a report replays at most (three passes of Map operations; about a second). */
export const MAX_BLOCK_LOOKUPS = 4_000_000;

/** Above this gap (10 percentage points) the prediction and the engine disagree. */
export const HIT_RATE_DISAGREEMENT = 0.1;

export function predictHitRate(system: string, run: RunResult): HitRatePrediction {
  const pools = kvPoolsOf(run);
  const measuredRaw = (run.log_metrics as { cache_hit_rate?: unknown } | undefined)?.cache_hit_rate;
  const measured = typeof measuredRaw === 'number' && Number.isFinite(measuredRaw) ? measuredRaw : null;
  const null_reasons: Record<string, string> = {};
  if (measured === null) null_reasons.measured = (run.log_metrics?.null_reasons as Record<string, string> | undefined)?.['cache_hit_rate'] ?? 'the engine reported no cache hit rate';
  const trace = run.samples.some((s) => scenarioOf(s)?.kind === 'trace');
  const model = trace
    ? "the trace's own block chains (scenario.hash_ids as imported) through a two-tier LRU, requests one after another"
    : "the workload's prompts and their shared prefixes through a two-tier LRU, requests one after another";
  const notModelled = (why: string): HitRatePrediction => {
    null_reasons.predicted = why;
    return { system, pools, model, gpu_only: null, gpu_and_host: null, infinite: null, measured, difference: null, disagrees: null, note: `not modelled: ${why}`, null_reasons };
  };
  if (!pools) return notModelled('the run records no KV pool sizes (kv_pools or kv_config)');
  const blind = traceWithoutHashIds(run.samples);
  if (blind > 0) return notModelled(`${blind} trace request(s) carry no hash_ids (imported before kvbench kept them): their sharing is unknown; import the trace again`);
  let lookups = 0;
  for (const s of run.samples) lookups += Math.ceil(s.prompt_tokens_client / pools.tokens_per_block);
  if (lookups > MAX_BLOCK_LOOKUPS) return notModelled(`the workload looks up ${lookups} blocks, more than a report replays block by block (${MAX_BLOCK_LOOKUPS})`);
  const reqs = blockRequestsOf(run.samples, pools.tokens_per_block);
  const gpuOnly = simulateLru(reqs, pools.gpu_blocks, 0);
  const infinite = simulateLru(reqs, Number.MAX_SAFE_INTEGER, 0);
  const both = pools.host_blocks === null ? null : simulateLru(reqs, pools.gpu_blocks, pools.host_blocks);
  if (both === null) null_reasons.gpu_and_host = pools.null_reasons.host_blocks ?? 'host cache size unknown';
  const predicted = both?.hit_rate ?? null;
  const difference = predicted !== null && measured !== null ? measured - predicted : null;
  const disagrees = difference === null ? null : Math.abs(difference) > HIT_RATE_DISAGREEMENT;
  const pct = (v: number | null) => (v === null ? 'not modelled' : `${(v * 100).toFixed(1)}%`);
  const fm = (v: number | null) => (v === null ? 'not reported' : `${(v * 100).toFixed(1)}%`);
  const note =
    difference === null
      ? `predicted ${pct(predicted)} (GPU only ${pct(gpuOnly.hit_rate)}, infinite ${pct(infinite.hit_rate)}), measured ${fm(measured)}`
      : disagrees
        ? `measured ${fm(measured)} vs predicted ${pct(predicted)}: ${Math.abs(difference * 100).toFixed(1)} points apart. The engine is not caching what its pools should hold, or this workload depends on what the model leaves out (requests in flight together, blocks held by running requests).`
        : `measured ${fm(measured)} agrees with the LRU prediction ${pct(predicted)} (within ${HIT_RATE_DISAGREEMENT * 100} points)`;
  return { system, pools, model, gpu_only: gpuOnly, gpu_and_host: both, infinite, measured, difference, disagrees, note, null_reasons };
}
