/**
 * Paged KV cache with a GPU (primary) pool and a host (secondary) pool, after TensorRT-LLM's
 * KVCacheManager:
 *
 * - Full blocks of tokens_per_block tokens are stored for reuse under their chain hash once the
 *   request's context phase completes. A block held by a running request (refCount > 0) is never
 *   evicted.
 * - A stored GPU block nobody holds stays cached and is evictable. Eviction order: lowest
 *   priority first, least recently released first within a priority.
 * - Evicting a GPU block offloads it to the host pool (an `updated` event, cache_level 0→1) when
 *   the host pool has blocks and the block's priority ≥ secondary_offload_min_priority; otherwise
 *   it is dropped (`removed`). A full host pool drops its own least recently used block first.
 * - A reused block found on the host is onboarded into a GPU slot (`updated` 1→0).
 *
 * Counters follow kvCacheStats (cumulative) and kvCacheIterationStats (per-iteration deltas).
 */
export type CacheLevel = 0 | 1;

export const DEFAULT_PRIORITY = 35;

export interface Block {
  readonly id: number;
  /** Chain hash once stored for reuse; null for a block only its request uses. */
  hash: number | null;
  parentHash: number | null;
  /** Tokens, kept for `stored` events (only when the event buffer is on). */
  tokens: Uint32Array | null;
  level: CacheLevel;
  refCount: number;
  priority: number;
}

export type KvCacheEvent =
  | { event_id: number; data: { type: 'created'; num_blocks_per_cache_level: number[] }; window_size: number }
  | {
      event_id: number;
      data: {
        type: 'stored';
        parent_hash: number | null;
        blocks: Array<{
          type: 'stored_block';
          block_hash: number;
          tokens: Array<{ type: 'unique_token'; token_id: number; token_extra_id: number }>;
          lora_id: null;
          cache_level: CacheLevel;
          priority: number;
        }>;
      };
      window_size: number;
    }
  | { event_id: number; data: { type: 'removed'; block_hashes: number[] }; window_size: number }
  | {
      event_id: number;
      data: {
        type: 'updated';
        block_hash: number;
        cache_level: { type: 'event_diff'; old_value: CacheLevel; new_value: CacheLevel };
        priority: null;
      };
      window_size: number;
    };

export interface BlockCounters {
  allocTotalBlocks: number;
  allocNewBlocks: number;
  reusedBlocks: number;
  missedBlocks: number;
  offloadBlocks: number;
  onboardBlocks: number;
}

export interface BlockManagerOptions {
  gpuBlocks: number;
  hostBlocks: number;
  tokensPerBlock: number;
  /** Bytes of one block on one rank (for *Bytes counters). */
  blockBytes: number;
  secondaryOffloadMinPriority?: number;
  /** 0 disables the event buffer (TensorRT-LLM's default). */
  eventBufferMaxSize?: number;
  /** The attention window the events are keyed by. */
  windowSize: number;
  /** Record every reuse (hash) for invariant checks in tests. */
  traceReuse?: boolean;
}

interface LruNode {
  readonly b: Block;
  readonly list: LruList;
  prev: LruNode | null;
  next: LruNode | null;
}
interface LruList {
  head: LruNode | null;
  tail: LruNode | null;
  size: number;
}

/**
 * Ordered sets per priority: a linked list each (least recent at the head), so adding, deleting and
 * finding the victim are O(1). (A Map in insertion order did this, but V8 keeps deleted entries until
 * it rehashes, so `values().next()` for the victim walked past every block evicted before it: most of
 * the simulator's time on the 128K seed workload.)
 */
class PriorityLru {
  /** Lists in the order their priority first appeared (values() keeps the order a Map of Maps had). */
  private readonly byPriority = new Map<number, LruList>();
  private readonly nodes = new Map<number, LruNode>();
  size = 0;
  add(b: Block): void {
    if (this.nodes.has(b.id)) return;
    let list = this.byPriority.get(b.priority);
    if (!list) this.byPriority.set(b.priority, (list = { head: null, tail: null, size: 0 }));
    const n: LruNode = { b, list, prev: list.tail, next: null };
    if (list.tail) list.tail.next = n;
    else list.head = n;
    list.tail = n;
    list.size++;
    this.nodes.set(b.id, n);
    this.size++;
  }
  delete(b: Block): boolean {
    const n = this.nodes.get(b.id);
    if (!n) return false;
    const list = n.list;
    if (n.prev) n.prev.next = n.next;
    else list.head = n.next;
    if (n.next) n.next.prev = n.prev;
    else list.tail = n.prev;
    list.size--;
    this.nodes.delete(b.id);
    this.size--;
    return true;
  }
  has(b: Block): boolean {
    return this.nodes.has(b.id);
  }
  *values(): IterableIterator<Block> {
    for (const list of this.byPriority.values()) for (let n = list.head; n; n = n.next) yield n.b;
  }
  /** Lowest priority, least recent. */
  victim(): Block | undefined {
    let best: LruList | undefined;
    let bestP = Infinity;
    for (const [p, list] of this.byPriority) if (list.size > 0 && p < bestP) (best = list), (bestP = p);
    return best?.head?.b;
  }
}

export class BlockManager {
  readonly gpuBlocks: number;
  readonly hostBlocks: number;
  readonly tokensPerBlock: number;
  readonly blockBytes: number;
  readonly minOffloadPriority: number;
  readonly windowSize: number;

  private nextId = 1;
  /** GPU slots holding nothing. */
  private gpuEmpty: number;
  /** GPU blocks held by nobody but stored for reuse (evictable). */
  private readonly gpuCached = new PriorityLru();
  /** Host blocks (always stored, never held). */
  private readonly hostCached = new PriorityLru();
  private readonly byHash = new Map<number, Block>();

  readonly counters: BlockCounters = { allocTotalBlocks: 0, allocNewBlocks: 0, reusedBlocks: 0, missedBlocks: 0, offloadBlocks: 0, onboardBlocks: 0 };

  private readonly eventMax: number;
  private events: KvCacheEvent[] = [];
  /** Stored-block entries whose `tokens` are filled in at drain time. */
  private lazyTokens = new WeakMap<object, Uint32Array>();
  private nextEventId = 0;
  readonly reuseTrace: number[] | null;

  constructor(opts: BlockManagerOptions) {
    this.gpuBlocks = opts.gpuBlocks;
    this.hostBlocks = opts.hostBlocks;
    this.tokensPerBlock = opts.tokensPerBlock;
    this.blockBytes = opts.blockBytes;
    this.minOffloadPriority = opts.secondaryOffloadMinPriority ?? DEFAULT_PRIORITY;
    this.windowSize = opts.windowSize;
    this.eventMax = opts.eventBufferMaxSize ?? 0;
    this.reuseTrace = opts.traceReuse ? [] : null;
    this.gpuEmpty = opts.gpuBlocks;
    this.emit({ type: 'created', num_blocks_per_cache_level: [this.gpuBlocks, this.hostBlocks] });
  }

  // ---- pool state ----

  /** GPU blocks not held by a request (empty or cached-evictable): TensorRT-LLM's freeNumBlocks. */
  get gpuFree(): number {
    return this.gpuEmpty + this.gpuCached.size;
  }
  get gpuUsed(): number {
    return this.gpuBlocks - this.gpuFree;
  }
  get gpuCachedCount(): number {
    return this.gpuCached.size;
  }
  get hostUsed(): number {
    return this.hostCached.size;
  }
  get storedCount(): number {
    return this.byHash.size;
  }

  // ---- lookup ----

  /** Stored blocks matching the prefix given by `hashes`, in order, stopping at the first miss. */
  match(hashes: ArrayLike<number>): Block[] {
    const out: Block[] = [];
    for (let i = 0; i < hashes.length; i++) {
      const b = this.byHash.get(hashes[i]!);
      if (!b) break;
      out.push(b);
    }
    return out;
  }

  /** Where the stored block with `hash` lives, if anywhere. */
  levelOf(hash: number): CacheLevel | undefined {
    return this.byHash.get(hash)?.level;
  }

  // ---- allocation ----

  /** A GPU slot, evicting (offloading or dropping) the best victim when none is empty. */
  private takeGpuSlot(): void {
    if (this.gpuEmpty > 0) {
      this.gpuEmpty--;
      return;
    }
    const victim = this.gpuCached.victim();
    if (!victim) throw new Error('KV cache invariant broken: no free or evictable GPU block (scheduler over-admitted)');
    this.gpuCached.delete(victim);
    this.offloadOrDrop(victim);
  }

  private offloadOrDrop(b: Block): void {
    if (this.hostBlocks > 0 && b.priority >= this.minOffloadPriority) {
      if (this.hostCached.size >= this.hostBlocks) {
        const drop = this.hostCached.victim()!;
        this.hostCached.delete(drop);
        this.forget(drop);
      }
      b.level = 1;
      this.hostCached.add(b);
      this.counters.offloadBlocks++;
      this.emit({ type: 'updated', block_hash: b.hash!, cache_level: { type: 'event_diff', old_value: 0, new_value: 1 }, priority: null });
    } else {
      this.forget(b);
    }
  }

  private forget(b: Block): void {
    if (b.hash !== null) {
      this.byHash.delete(b.hash);
      this.emit({ type: 'removed', block_hashes: [b.hash] });
    }
  }

  /** A fresh block for a request's own tokens, held by it. */
  allocate(priority = DEFAULT_PRIORITY): Block {
    this.takeGpuSlot();
    this.counters.allocTotalBlocks++;
    this.counters.allocNewBlocks++;
    return { id: this.nextId++, hash: null, parentHash: null, tokens: null, level: 0, refCount: 1, priority };
  }

  /**
   * Take the matched stored blocks of a request (a prefix, from match()). All are claimed before
   * anything moves, so onboarding one cannot evict or drop another of the same prefix; then host
   * blocks are onboarded, each into a GPU slot (which may offload a victim into the host room the
   * onboarded block leaves, as TensorRT-LLM swaps primary and secondary blocks). Returns how many
   * were onboarded.
   */
  acquireMatched(blocks: readonly Block[]): number {
    const toOnboard: Block[] = [];
    for (const b of blocks) {
      this.counters.allocTotalBlocks++;
      this.counters.reusedBlocks++;
      this.reuseTrace?.push(b.hash!);
      if (b.level === 1) {
        if (!this.hostCached.delete(b)) throw new Error(`KV cache invariant broken: host block ${b.id} not in host pool`);
        toOnboard.push(b);
      } else if (b.refCount === 0) {
        this.gpuCached.delete(b);
      }
      b.refCount++;
    }
    for (const b of toOnboard) {
      this.takeGpuSlot();
      b.level = 0;
      this.counters.onboardBlocks++;
      this.emit({ type: 'updated', block_hash: b.hash!, cache_level: { type: 'event_diff', old_value: 1, new_value: 0 }, priority: null });
    }
    return toOnboard.length;
  }

  /** Count prompt blocks that were not found (kvCacheStats.missedBlocks). */
  countMissed(n: number): void {
    this.counters.missedBlocks += n;
  }

  /**
   * Store a request's computed full blocks for reuse, in prefix order. A block whose hash is
   * already stored (another request computed the same prefix meanwhile) stays private.
   */
  store(blocks: ReadonlyArray<{ block: Block; hash: number; parentHash: number | null; tokens: Uint32Array }>): void {
    let group: Extract<KvCacheEvent, { data: { type: 'stored' } }>['data'] | null = null;
    for (const { block, hash, parentHash, tokens } of blocks) {
      if (block.hash !== null || this.byHash.has(hash)) {
        if (group) this.emit(group);
        group = null;
        continue;
      }
      block.hash = hash;
      block.parentHash = parentHash;
      // Tokens only matter for `stored` events; keeping them would pin whole prompts in memory.
      block.tokens = this.eventMax > 0 ? tokens : null;
      this.byHash.set(hash, block);
      if (this.eventMax > 0) {
        group ??= { type: 'stored', parent_hash: parentHash, blocks: [] };
        // Token objects are built when the events are drained (lazyTokens), not for every store.
        group.blocks.push({ type: 'stored_block', block_hash: hash, tokens: [], lora_id: null, cache_level: 0, priority: block.priority });
        this.lazyTokens.set(group.blocks[group.blocks.length - 1]!, tokens);
      }
    }
    if (group) this.emit(group);
  }

  /** A request lets go of a block: stored blocks become cached (evictable), private ones empty. */
  release(b: Block): void {
    if (b.refCount <= 0) throw new Error(`KV cache invariant broken: release of unheld block ${b.id}`);
    b.refCount--;
    if (b.refCount > 0) return;
    if (b.hash !== null) this.gpuCached.add(b);
    else this.gpuEmpty++;
  }

  // ---- events ----

  private emit(data: KvCacheEvent['data']): void {
    if (this.eventMax <= 0) return;
    this.events.push({ event_id: this.nextEventId++, data, window_size: this.windowSize } as KvCacheEvent);
    if (this.events.length > this.eventMax) this.events.splice(0, this.events.length - this.eventMax);
  }

  /** Events since the last drain, oldest first (POST /kv_cache_events drains). */
  drainEvents(): KvCacheEvent[] {
    const out = this.events;
    this.events = [];
    for (const e of out) {
      if (e.data.type !== 'stored') continue;
      for (const b of e.data.blocks) {
        const t = this.lazyTokens.get(b);
        if (t) b.tokens = Array.from(t, (id) => ({ type: 'unique_token' as const, token_id: id, token_extra_id: 0 }));
      }
    }
    return out;
  }

  /** For invariant checks: every pool count is within its capacity and consistent. */
  checkInvariants(): void {
    const fail = (m: string) => {
      throw new Error(`KV cache invariant broken: ${m}`);
    };
    if (this.gpuEmpty < 0 || this.gpuEmpty > this.gpuBlocks) fail(`gpuEmpty ${this.gpuEmpty}`);
    if (this.gpuUsed < 0 || this.gpuUsed > this.gpuBlocks) fail(`gpuUsed ${this.gpuUsed}`);
    if (this.hostCached.size > this.hostBlocks) fail(`host ${this.hostCached.size} > ${this.hostBlocks}`);
    for (const [h, b] of this.byHash) {
      if (b.hash !== h) fail(`block ${b.id} stored under ${h} but hashed ${b.hash}`);
      if (b.level === 1 && !this.hostCached.has(b)) fail(`host block ${b.id} not in host pool`);
      if (b.level === 1 && b.refCount !== 0) fail(`host block ${b.id} held by a request`);
      if (b.level === 0 && b.refCount === 0 && !this.gpuCached.has(b)) fail(`cached GPU block ${b.id} not evictable`);
    }
    for (const b of this.gpuCached.values())
      if (b.hash === null || this.byHash.get(b.hash) !== b || b.level !== 0 || b.refCount !== 0) fail(`evictable GPU block ${b.id} is not a stored, unheld GPU block`);
    for (const b of this.hostCached.values())
      if (b.hash === null || this.byHash.get(b.hash) !== b || b.level !== 1) fail(`host block ${b.id} is not stored`);
  }
}
