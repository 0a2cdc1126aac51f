/**
 * The engine in modelled time: a queue, an in-flight-batching scheduler and the KV cache.
 *
 * Scheduler (after TensorRT-LLM's GUARANTEED_NO_EVICT capacity scheduler and its micro-batch
 * scheduler):
 * - A queued request is admitted, first come first served, while fewer than max_batch_size are
 *   active and the GPU pool can hold every active request at its full length
 *   (ceil((prompt + max_tokens) / tokens_per_block) blocks each). The head of the queue blocks
 *   the ones behind it, so order is kept.
 * - On admission the longest stored prefix of full blocks is reused (host blocks onboarded).
 *   When the whole prompt matches, the last token is computed again (the engine needs its logits).
 * - Each iteration runs one decode token for every request in generation, then context chunks in
 *   admission order within max_num_tokens (chunks are multiples of tokens_per_block except a
 *   request's last one; without chunked prefill a context runs whole).
 * - A request's full prompt blocks are stored for reuse when its context phase ends; its blocks
 *   are released when it finishes.
 * - Iteration time = transfer time (onboards and the offloads its allocations caused, on the
 *   critical path: TensorRT-LLM syncs the transfer streams before the forward pass) + compute
 *   (context chunks + one decode step).
 */
import { BlockManager, DEFAULT_PRIORITY, type Block, type BlockCounters, type KvCacheEvent } from './blocks.js';
import { buildIterationStats, type IterationStats } from './iteration-stats.js';
import { LinkSeries } from './link-series.js';
import { chainHashes } from './hash.js';
import type { TimingModel } from './timing.js';

export interface EngineOptions {
  maxBatchSize: number;
  maxNumTokens: number;
  tokensPerBlock: number;
  gpuBlocks: number;
  hostBlocks: number;
  enableBlockReuse: boolean;
  enableChunkedPrefill: boolean;
  secondaryOffloadMinPriority?: number;
  eventBufferMaxSize?: number;
  /** Attention window the per-window statistics and events are keyed by. */
  windowSize: number;
  enableIterPerfStats: boolean;
  iterStatsMaxIterations: number;
  /** Iteration stats without kvCacheIterationStats, like TensorRT-LLM builds before it existed. */
  legacyMetrics?: boolean;
  returnPerfMetrics: boolean;
  perfMetricsMaxRequests: number;
  /** Modelled seconds → steady-clock seconds for /perf_metrics (the server's mapping). */
  toSteadySeconds?: (t: number) => number;
  /** Modelled seconds → wall-clock Date for iteration stats' timestamp. */
  toWallClock?: (t: number) => Date;
  /** Extra fields added to every iteration-stats entry (labels). */
  statsLabels?: Record<string, unknown>;
  traceReuse?: boolean;
}

export interface EngineRequest {
  id: number;
  /** Id the HTTP answer carries (cmpl-…), reported beside request_id in /perf_metrics. */
  responseId?: string;
  tokens: Uint32Array;
  maxTokens: number;
  priority?: number;
  /** chainHashes(tokens, tokens_per_block), when the caller computed them already (off the event loop). */
  hashes?: ArrayLike<number>;
}

type Phase = 'queued' | 'context' | 'generation';

interface Seq {
  req: EngineRequest;
  phase: Phase;
  arrival: number;
  hashes: ArrayLike<number>;
  blocks: Block[];
  reserved: number;
  /** Prompt tokens whose KV is in the cache (reused or computed). */
  computed: number;
  cachedTokens: number;
  generated: number;
  reused: number;
  missed: number;
  newBlocks: number;
  onboarded: number;
  firstScheduled: number;
  firstToken: number;
  firstIter: number;
  cancelled: boolean;
  /** Prompt tokens by where their KV came from (set on admission). */
  gpuHitTokens: number;
  hostTokens: number;
  /** Modelled seconds of this request's own host→GPU copies and its own prefill compute. */
  onboardSeconds: number;
  prefillSeconds: number;
}

export interface Emission {
  id: number;
  /** 0-based index of the generated token. */
  index: number;
  final: boolean;
}

export interface RequestOutcome {
  id: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reusedBlocks: number;
  missedBlocks: number;
  newBlocks: number;
  onboardedBlocks: number;
  arrival: number;
  firstScheduled: number;
  firstToken: number;
  lastToken: number;
  /** Prompt tokens served from the GPU cache, onboarded from host, computed (they add up to promptTokens). */
  gpuHitTokens: number;
  hostOnboardedTokens: number;
  recomputedTokens: number;
  /** Modelled seconds of its own onboard copies (blocks × block bytes / h2d bandwidth) and its own prefill compute. */
  onboardSeconds: number;
  prefillSeconds: number;
}

export interface IterationResult {
  iter: number;
  start: number;
  end: number;
  transferSeconds: number;
  /** Host→GPU and GPU→host copy time each on its own (they overlap within transferSeconds). */
  h2dSeconds: number;
  d2hSeconds: number;
  computeSeconds: number;
  onboardBlocks: number;
  offloadBlocks: number;
  emissions: Emission[];
  finished: RequestOutcome[];
}

export type { IterationStats } from './iteration-stats.js';
export type PerfMetricsEntry = Record<string, unknown>;

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

export class Engine {
  readonly blocks: BlockManager;
  private readonly queue: Seq[] = [];
  private readonly active: Seq[] = [];
  private readonly byId = new Map<number, Seq>();
  private iter = 0;
  /** Serialized when recorded, off the emission path, so a /metrics read is only a join. */
  private iterStats: string[] = [];
  private perfMetrics: PerfMetricsEntry[] = [];
  private completedSinceLast = 0;
  /** Sum of iterOffloadBlocks over every iteration run (for invariant checks). */
  totalIterOffloadBlocks = 0;
  /** Modelled link bytes per iteration, for the telemetry series (issue 23). */
  readonly linkSeries = new LinkSeries();

  constructor(
    readonly opts: EngineOptions,
    readonly timing: TimingModel,
  ) {
    this.blocks = new BlockManager({
      gpuBlocks: opts.gpuBlocks,
      hostBlocks: opts.hostBlocks,
      tokensPerBlock: opts.tokensPerBlock,
      blockBytes: timing.blockBytes,
      secondaryOffloadMinPriority: opts.secondaryOffloadMinPriority,
      eventBufferMaxSize: opts.eventBufferMaxSize,
      windowSize: opts.windowSize,
      traceReuse: opts.traceReuse,
    });
  }

  /** Blocks a request reserves for its whole life. */
  blocksNeeded(promptTokens: number, maxTokens: number): number {
    return ceilDiv(promptTokens + maxTokens, this.opts.tokensPerBlock);
  }

  enqueue(req: EngineRequest, now: number): void {
    if (this.byId.has(req.id)) throw new Error(`duplicate request id ${req.id}`);
    if (req.tokens.length === 0) throw new Error('empty prompt');
    const need = this.blocksNeeded(req.tokens.length, req.maxTokens);
    if (need > this.opts.gpuBlocks) throw new Error(`request ${req.id} needs ${need} blocks, the GPU pool has ${this.opts.gpuBlocks}`);
    if (!this.opts.enableChunkedPrefill && req.tokens.length > this.opts.maxNumTokens)
      throw new Error(`request ${req.id}: prompt of ${req.tokens.length} tokens exceeds max_num_tokens ${this.opts.maxNumTokens} without chunked prefill`);
    const seq: Seq = {
      req,
      phase: 'queued',
      arrival: now,
      hashes: !this.opts.enableBlockReuse ? [] : (req.hashes ?? chainHashes(req.tokens, this.opts.tokensPerBlock)),
      blocks: [],
      reserved: need,
      computed: 0,
      cachedTokens: 0,
      generated: 0,
      reused: 0,
      missed: 0,
      newBlocks: 0,
      onboarded: 0,
      firstScheduled: NaN,
      firstToken: NaN,
      firstIter: -1,
      cancelled: false,
      gpuHitTokens: 0,
      hostTokens: 0,
      onboardSeconds: 0,
      prefillSeconds: 0,
    };
    this.queue.push(seq);
    this.byId.set(req.id, seq);
  }

  /** Drop a request (client went away). Its blocks are released without being stored. */
  cancel(id: number): void {
    const s = this.byId.get(id);
    if (s) s.cancelled = true;
  }

  /** Arrival time of the first queued request, when it arrived after `t` (nothing can run before it). */
  queuedArrivalAfter(t: number): number | null {
    const head = this.queue[0];
    return head && head.arrival > t ? head.arrival : null;
  }

  hasWork(): boolean {
    return this.queue.length > 0 || this.active.length > 0;
  }

  get numQueued(): number {
    return this.queue.length;
  }
  get numActive(): number {
    return this.active.length;
  }

  private dropCancelled(): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const s = this.queue[i]!;
      if (s.cancelled) {
        this.queue.splice(i, 1);
        this.byId.delete(s.req.id);
      }
    }
    for (let i = this.active.length - 1; i >= 0; i--) {
      const s = this.active[i]!;
      if (s.cancelled) {
        for (const b of s.blocks) this.blocks.release(b);
        this.active.splice(i, 1);
        this.byId.delete(s.req.id);
      }
    }
  }

  private admit(s: Seq, now: number): void {
    const P = s.req.tokens.length;
    const tpb = this.opts.tokensPerBlock;
    const matched = this.opts.enableBlockReuse ? this.blocks.match(s.hashes) : [];
    // Tiers are read before acquiring: acquireMatched moves host blocks to the GPU.
    let hostMatched = 0;
    for (const b of matched) if (b.level === 1) hostMatched++;
    const lastOnHost = matched.length > 0 && matched[matched.length - 1]!.level === 1;
    s.onboarded = this.blocks.acquireMatched(matched);
    s.blocks.push(...matched);
    s.reused = matched.length;
    s.missed = ceilDiv(P, tpb) - matched.length;
    this.blocks.countMissed(s.missed);
    s.cachedTokens = Math.min(matched.length * tpb, P - 1);
    s.computed = s.cachedTokens;
    s.gpuHitTokens = (matched.length - hostMatched) * tpb;
    s.hostTokens = hostMatched * tpb;
    // A fully matched prompt recomputes its last token; that token belongs to the last block's tier.
    const recomputedOfMatched = matched.length * tpb - s.cachedTokens;
    if (lastOnHost) s.hostTokens -= recomputedOfMatched;
    else s.gpuHitTokens -= recomputedOfMatched;
    s.onboardSeconds = this.timing.blockTransferSeconds('h2d', s.onboarded);
    s.phase = 'context';
    s.firstScheduled = now;
    s.firstIter = this.iter;
  }

  /** Allocate private blocks until the request holds enough for `tokens` tokens. */
  private growTo(s: Seq, tokens: number): void {
    const need = ceilDiv(tokens, this.opts.tokensPerBlock);
    while (s.blocks.length < need) {
      s.blocks.push(this.blocks.allocate(s.req.priority ?? DEFAULT_PRIORITY));
      s.newBlocks++;
    }
  }

  /**
   * Run one iteration starting at modelled time `now`. Returns null when there is nothing to
   * run (queue empty, nothing active).
   */
  step(now: number): IterationResult | null {
    this.dropCancelled();
    if (!this.hasWork()) return null;
    const c0 = { ...this.blocks.counters };
    const tpb = this.opts.tokensPerBlock;

    // 1. Admission.
    let reserved = 0;
    for (const s of this.active) reserved += s.reserved;
    let newlyActive = 0;
    while (this.queue.length > 0 && this.active.length < this.opts.maxBatchSize) {
      const head = this.queue[0]!;
      // An iteration that starts (in modelled time) before a request arrived cannot hold it:
      // the driver's timeline can run behind the clock when the host is starved of CPU.
      if (head.arrival > now) break;
      if (reserved + head.reserved > this.opts.gpuBlocks) break;
      this.queue.shift();
      this.admit(head, now);
      this.active.push(head);
      reserved += head.reserved;
      newlyActive++;
    }

    // 2. Batch: decode tokens first, then context chunks within max_num_tokens.
    const gen = this.active.filter((s) => s.phase === 'generation');
    let budget = this.opts.maxNumTokens - gen.length;
    const chunks: Array<{ s: Seq; n: number; before: number }> = [];
    for (const s of this.active) {
      if (s.phase !== 'context' || budget <= 0) continue;
      const remaining = s.req.tokens.length - s.computed;
      let n: number;
      if (remaining <= budget) n = remaining;
      else if (!this.opts.enableChunkedPrefill) continue;
      else {
        n = Math.floor((s.computed + budget) / tpb) * tpb - s.computed;
        // A budget smaller than a block (max_num_tokens < tokens_per_block) still makes progress.
        if (n <= 0) n = budget;
      }
      chunks.push({ s, n, before: s.computed });
      budget -= n;
    }
    if (gen.length === 0 && chunks.length === 0) {
      // Only possible when the budget is too small for any chunk; keep time moving by reporting nothing.
      return null;
    }

    // 3. Blocks for this iteration's tokens.
    for (const c of chunks) this.growTo(c.s, c.before + c.n);
    for (const s of gen) this.growTo(s, s.req.tokens.length + s.generated);

    // 4. Time.
    const onboard = this.blocks.counters.onboardBlocks - c0.onboardBlocks;
    const offload = this.blocks.counters.offloadBlocks - c0.offloadBlocks;
    const transferSeconds = this.timing.transferSeconds(onboard, offload);
    let computeSeconds = 0;
    for (const c of chunks) {
      const t = this.timing.prefillSeconds(c.n, c.before);
      c.s.prefillSeconds += t;
      computeSeconds += t;
    }
    let genContext = 0;
    for (const s of gen) genContext += s.req.tokens.length + s.generated;
    computeSeconds += this.timing.decodeStepSeconds(gen.length, genContext);
    const end = now + transferSeconds + computeSeconds;

    // 5. Results.
    const emissions: Emission[] = [];
    const finished: RequestOutcome[] = [];
    const done: Seq[] = [];
    for (const s of gen) {
      s.generated++;
      const final = s.generated >= s.req.maxTokens;
      emissions.push({ id: s.req.id, index: s.generated - 1, final });
      if (final) done.push(s);
    }
    for (const c of chunks) {
      c.s.computed += c.n;
      if (c.s.computed < c.s.req.tokens.length) continue;
      this.storePrompt(c.s);
      c.s.phase = 'generation';
      c.s.generated = 1;
      c.s.firstToken = end;
      const final = c.s.req.maxTokens <= 1;
      emissions.push({ id: c.s.req.id, index: 0, final });
      if (final) done.push(c.s);
    }
    for (const s of done) finished.push(this.finish(s, end));

    const result: IterationResult = {
      iter: this.iter,
      start: now,
      end,
      transferSeconds,
      h2dSeconds: this.timing.blockTransferSeconds('h2d', onboard),
      d2hSeconds: this.timing.blockTransferSeconds('d2h', offload),
      computeSeconds,
      onboardBlocks: onboard,
      offloadBlocks: offload,
      emissions,
      finished,
    };
    this.totalIterOffloadBlocks += offload;
    this.linkSeries.record({ iter: this.iter, start_s: now, end_s: end, h2d_bytes: onboard * this.timing.blockBytes, d2h_bytes: offload * this.timing.blockBytes });
    this.recordIteration(result, c0, newlyActive, gen.length, chunks);
    this.iter++;
    return result;
  }

  private storePrompt(s: Seq): void {
    if (!this.opts.enableBlockReuse) return;
    const tpb = this.opts.tokensPerBlock;
    const entries = [];
    for (let i = 0; i < s.hashes.length; i++) {
      entries.push({
        block: s.blocks[i]!,
        hash: s.hashes[i]!,
        parentHash: i === 0 ? null : s.hashes[i - 1]!,
        tokens: s.req.tokens.subarray(i * tpb, (i + 1) * tpb),
      });
    }
    this.blocks.store(entries);
  }

  private finish(s: Seq, end: number): RequestOutcome {
    for (const b of s.blocks) this.blocks.release(b);
    s.blocks = [];
    this.active.splice(this.active.indexOf(s), 1);
    this.byId.delete(s.req.id);
    this.completedSinceLast++;
    const out: RequestOutcome = {
      id: s.req.id,
      promptTokens: s.req.tokens.length,
      completionTokens: s.generated,
      cachedTokens: s.cachedTokens,
      reusedBlocks: s.reused,
      missedBlocks: s.missed,
      newBlocks: s.newBlocks,
      onboardedBlocks: s.onboarded,
      arrival: s.arrival,
      firstScheduled: s.firstScheduled,
      firstToken: s.firstToken,
      lastToken: end,
      gpuHitTokens: s.gpuHitTokens,
      hostOnboardedTokens: s.hostTokens,
      recomputedTokens: s.req.tokens.length - s.gpuHitTokens - s.hostTokens,
      onboardSeconds: s.onboardSeconds,
      prefillSeconds: s.prefillSeconds,
    };
    if (this.opts.returnPerfMetrics) {
      const steady = this.opts.toSteadySeconds ?? ((t: number) => t);
      this.perfMetrics.push({
        request_id: s.req.id,
        response_id: s.req.responseId ?? null,
        perf_metrics: {
          first_iter: s.firstIter,
          last_iter: this.iter,
          timing_metrics: {
            arrival_time: steady(out.arrival),
            first_scheduled_time: steady(out.firstScheduled),
            first_token_time: steady(out.firstToken),
            last_token_time: steady(out.lastToken),
          },
          kv_cache_metrics: {
            num_total_allocated_blocks: s.reused + s.newBlocks,
            num_new_allocated_blocks: s.newBlocks,
            num_reused_blocks: s.reused,
            num_missed_blocks: s.missed,
          },
        },
        // Not in TensorRT-LLM: what the simulator knows about this request, durations on the same
        // steady clock as timing_metrics (modelled seconds × time scale).
        sim: {
          onboard_s: steady(out.firstScheduled + out.onboardSeconds) - steady(out.firstScheduled),
          prefill_s: steady(out.firstScheduled + out.prefillSeconds) - steady(out.firstScheduled),
          onboarded_blocks: out.onboardedBlocks,
          onboarded_bytes: out.onboardedBlocks * this.timing.blockBytes,
          tokens: { gpu_hit: out.gpuHitTokens, host_onboarded: out.hostOnboardedTokens, recomputed: out.recomputedTokens },
        },
      });
      const max = this.opts.perfMetricsMaxRequests;
      if (this.perfMetrics.length > max) this.perfMetrics.splice(0, this.perfMetrics.length - max);
    }
    return out;
  }

  /** Cumulative kvCacheStats now. */
  kvCacheStats(): Record<string, number> {
    const c = this.blocks.counters;
    const lookups = c.reusedBlocks + c.missedBlocks;
    return {
      maxNumBlocks: this.blocks.gpuBlocks,
      freeNumBlocks: this.blocks.gpuFree,
      usedNumBlocks: this.blocks.gpuUsed,
      tokensPerBlock: this.opts.tokensPerBlock,
      allocTotalBlocks: c.allocTotalBlocks,
      allocNewBlocks: c.allocNewBlocks,
      reusedBlocks: c.reusedBlocks,
      missedBlocks: c.missedBlocks,
      cacheHitRate: lookups === 0 ? 0 : c.reusedBlocks / lookups,
    };
  }

  private recordIteration(r: IterationResult, c0: Readonly<BlockCounters>, newlyActive: number, numGen: number, chunks: ReadonlyArray<{ n: number }>): void {
    const completed = this.completedSinceLast;
    this.completedSinceLast = 0;
    if (!this.opts.enableIterPerfStats) return;
    const entry = buildIterationStats({
        r,
        c0,
        blocks: this.blocks,
        kvCacheStats: this.kvCacheStats(),
        windowSize: this.opts.windowSize,
        maxBatchSize: this.opts.maxBatchSize,
        maxNumTokens: this.opts.maxNumTokens,
        numActive: this.active.length,
        numQueued: this.queue.length,
        completed,
        newlyActive,
        numGen,
        numCtxRequests: chunks.length,
        numCtxTokens: chunks.reduce((a, ch) => a + ch.n, 0),
        wall: this.opts.toWallClock?.(r.end) ?? new Date(),
        labels: this.opts.statsLabels,
      });
    if (this.opts.legacyMetrics) delete entry.kvCacheIterationStats;
    this.iterStats.push(JSON.stringify(entry));
    const max = this.opts.iterStatsMaxIterations;
    if (this.iterStats.length > max) this.iterStats.splice(0, this.iterStats.length - max);
  }

  /** GET /metrics: every iteration since the last read, then forgotten. */
  drainIterationStats(): IterationStats[] {
    return JSON.parse(this.drainIterationStatsJson()) as IterationStats[];
  }

  /** The same, as the JSON text GET /metrics answers. */
  drainIterationStatsJson(): string {
    const out = this.iterStats;
    this.iterStats = [];
    return `[${out.join(',')}]`;
  }

  /** GET /perf_metrics: finished requests since the last read. */
  drainPerfMetrics(): PerfMetricsEntry[] {
    const out = this.perfMetrics;
    this.perfMetrics = [];
    return out;
  }

  /** POST /kv_cache_events. */
  drainEvents(): KvCacheEvent[] {
    return this.blocks.drainEvents();
  }
}
