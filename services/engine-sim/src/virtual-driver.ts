/**
 * Runs the modelled engine on a virtual clock: modelled time advances only when the client grants
 * it, iteration by iteration, and nothing sleeps. A discrete-event simulation split over HTTP:
 * the client (kvbench's runner) knows when it may still submit a request, the simulator knows
 * when its iterations end, so they advance in lockstep (docs/DESIGN.md, "Virtual clock"):
 *
 * - Each request carries its modelled arrival (header `x-kvbench-arrival-s`; absent: the time the
 *   simulator has reached) and the client's submission number (`x-kvbench-seq`): requests wait
 *   until the next advance and are queued in submission order, not in the order the network and the
 *   tokenizer delivered them, so the engine's queue is the same on every run.
 * - `advance(until)` runs iterations while the next one would start before `until` (the client
 *   promises no arrival earlier than that), and stops right after an iteration that finished a
 *   request: a completion can release the client's next request (a turn after the previous one),
 *   which may arrive at that iteration's end. An iteration that starts before `until` may end after
 *   it: a request arriving meanwhile is admitted at the next iteration start, as in TensorRT-LLM's
 *   in-flight batching, so the result is the same as in real time.
 *
 * Every chunk of an iteration is written to its stream at once; the modelled times of each
 * finished request (arrival, first scheduled, first token, every token, end) are returned by
 * `advance` and are what the client takes as the sample's times.
 */
import type { Engine, EngineRequest, IterationResult, RequestOutcome } from './engine.js';

export interface VirtualFinished {
  id: number;
  outcome: RequestOutcome;
}

export interface AdvanceResult {
  /** Modelled seconds the next iteration can start at (the simulator's "now"). */
  nowS: number;
  /** Nothing queued or running. */
  idle: boolean;
  /** Requests finished by the last iteration run (all at its end), empty when none finished. */
  finished: VirtualFinished[];
  iterations: number;
  /**
   * Stopped because /metrics has not been read for half of the iterations its queue keeps: running on
   * would drop statistics a real-time run would have delivered. The client lets its reader poll, then
   * advances again (the modelled results do not depend on where an advance pauses).
   */
  statsBacklog: boolean;
}

export class VirtualDriver {
  /** Virtual steady clock: modelled second t is t seconds on it (epoch 0). */
  readonly epochNs = 0n;
  /** Start of the next iteration (modelled seconds). */
  private t = 0;
  private closed = false;

  constructor(
    readonly engine: Engine,
    /** As RealtimeDriver's: builds the writes of an iteration; called with its modelled end. */
    private readonly prepare: (r: IterationResult, dueNs: bigint) => () => void,
  ) {}

  modelNow(): number {
    return this.t;
  }

  wallNs(t: number): bigint {
    return BigInt(Math.round(t * 1e9));
  }

  steadySeconds(t: number): number {
    return t;
  }

  /** Submitted since the last advance: queued at its start, in submission order. */
  private pending: Array<{ req: EngineRequest; arrivalS: number | undefined; seq: number }> = [];

  /** A request arriving at modelled time `arrivalS` (never before what the simulator has already run), the client's `seq`-th. */
  submit(req: EngineRequest, arrivalS?: number, seq?: number): void {
    this.pending.push({ req, arrivalS, seq: seq ?? Number.MAX_SAFE_INTEGER });
  }

  cancel(id: number): void {
    this.pending = this.pending.filter((p) => p.req.id !== id);
    this.engine.cancel(id);
  }

  private enqueuePending(): void {
    // Stable: requests without a submission number keep the order they came in, after numbered ones.
    this.pending.sort((a, b) => a.seq - b.seq);
    for (const { req, arrivalS } of this.pending) this.engine.enqueue(req, arrivalS === undefined ? this.t : Math.max(arrivalS, 0));
    this.pending = [];
  }

  /** Run iterations starting before `untilS` (null: no limit) until one finishes a request or nothing is left. */
  advance(untilS: number | null): AdvanceResult {
    this.enqueuePending();
    let iterations = 0;
    const limit = untilS ?? Infinity;
    while (!this.closed && this.engine.hasWork()) {
      const backlog = this.engine.iterStatsBacklog;
      if (backlog.max > 0 && backlog.waiting >= Math.max(1, Math.floor(backlog.max / 2)))
        return { nowS: this.t, idle: false, finished: [], iterations, statsBacklog: true };
      if (this.engine.numActive === 0) {
        // Idle until the head of the queue arrives.
        const next = this.engine.queuedArrivalAfter(this.t);
        if (next !== null) this.t = next;
      }
      if (this.t >= limit) break;
      const r = this.engine.step(this.t);
      if (!r) {
        const next = this.engine.queuedArrivalAfter(this.t);
        if (next === null) break;
        this.t = next;
        continue;
      }
      iterations++;
      this.prepare(r, this.wallNs(r.end))();
      this.t = r.end;
      if (r.finished.length > 0) return { nowS: this.t, idle: !this.engine.hasWork(), finished: r.finished.map((o) => ({ id: o.id, outcome: o })), iterations, statsBacklog: false };
    }
    return { nowS: this.t, idle: !this.engine.hasWork(), finished: [], iterations, statsBacklog: false };
  }

  close(): void {
    this.closed = true;
  }
}
