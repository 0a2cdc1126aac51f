/**
 * Replays a workload against an OpenAI-compatible /v1/completions endpoint: one scheduler of
 * requests with release conditions (plan.ts) under a concurrency cap. A request is released at
 * its scheduled moment — a time after the run's start, or an earlier request's completion plus a
 * delay (the original batches: the whole previous batch's) — and then waits for a free slot, in
 * release order. Every request's clock starts when it is released: a request that waits for a slot
 * has that wait inside its TTFT, as a user would.
 *
 * The scheduler runs on a clock (scheduler-clock.ts): the agent's real clock (timers up to the next
 * release, requests complete as measured) or the simulator's virtual clock (virtual-clock.ts: modelled
 * time, advanced by the simulator up to the next release, requests complete at their modelled times).
 * New workload kinds are release conditions for this one scheduler, new clocks are clocks.
 */
import { getMaxListeners, setMaxListeners } from 'node:events';
import { MinHeap } from './min-heap.js';
import type { AnyWorkload, Job, Sample } from '@kvbench/common';
import { secondsBetween, type Instant } from './clock.js';
import { streamCompletion, type CompletionOutcome } from './completion.js';
import type { AnyAgent } from './http.js';
import { planWorkload, type Plan, type PlannedRequest } from './plan.js';
import { realClock, type ClockDriven, type ClockFactory, type EndedRequest, type SchedulerClock } from './scheduler-clock.js';

export { completionBody } from './plan.js';

export interface CompletedRequest {
  sample: Sample;
  outcome: CompletionOutcome;
  /** When the request was released (its TTFT starts here). */
  scheduledAt: Instant;
}

export interface ReplayOptions {
  workload: AnyWorkload;
  job: Job;
  /** Engine base URL (…/v1/completions is appended). */
  baseUrl: URL;
  agent: AnyAgent;
  requestTimeoutMs: number;
  /** Engine time scale S: modelled seconds = measured seconds / S (1 for real engines). */
  timeScale: number;
  /** t = 0 of the run on `clock`; scheduled_at_s is measured from here. */
  runStart: Instant;
  /** The clock the schedule runs on (default: the agent's real clock). */
  clock?: ClockFactory;
  /** Called once per request as it completes (in completion order). */
  onComplete(done: CompletedRequest): void;
  /** Extra headers on every request (TensorRT-LLM main: X-TRTLLM-return-metrics). */
  requestHeaders?: Record<string, string>;
  /** Stop releasing further requests when this returns a reason (engine died, too many failures). */
  stopReason?(): string | null;
  signal?: AbortSignal;
}

export async function replayWorkload(opts: ReplayOptions): Promise<{ completed: number; stoppedEarly: string | null }> {
  const plan = planWorkload(opts.workload, opts.job);
  // Every request in flight listens on the run's signal (http.request's own abort listener): more
  // than Node's default 10 is the concurrency cap at work, not a leak (it printed a
  // MaxListenersExceededWarning on every run with max_batch_size > 10).
  if (opts.signal) setMaxListeners(Math.max(getMaxListeners(opts.signal), plan.concurrency + 10), opts.signal);
  const url = new URL('v1/completions', opts.baseUrl.href.endsWith('/') ? opts.baseUrl : new URL(opts.baseUrl.href + '/'));
  return new Scheduler(plan, opts, url).run();
}

/** The sample of one finished request: its identity and what was measured (seconds / time scale). */
export function sampleOf(r: PlannedRequest, runStart: Instant, scheduledAt: Instant, outcome: CompletionOutcome, timeScale: number): Sample {
  const scaled = (s: number) => s / timeScale;
  const itl: number[] = [];
  for (let k = 1; k < outcome.textChunkTimes.length; k++) itl.push(scaled(secondsBetween(outcome.textChunkTimes[k - 1]!, outcome.textChunkTimes[k]!)));
  const id = r.identity;
  const sample: Sample = {
    request_id: id.request_id,
    batch_index: id.batch_index,
    index_in_batch: id.index_in_batch,
    prompt_id: id.prompt_id,
    context_tokens: id.context_tokens,
    phase: id.phase,
    scheduled_at_s: scaled(secondsBetween(runStart, scheduledAt)),
    ttft_s: outcome.firstTextAt === null ? null : scaled(secondsBetween(scheduledAt, outcome.firstTextAt)),
    latency_s: outcome.ok ? scaled(secondsBetween(scheduledAt, outcome.endAt)) : null,
    itl_s: itl,
    prompt_tokens_client: id.prompt_tokens_client,
    prompt_tokens_server: outcome.usage?.prompt_tokens ?? null,
    completion_tokens_client: outcome.textChunkTimes.length,
    completion_tokens_server: outcome.usage?.completion_tokens ?? null,
    cached_tokens: outcome.usage?.cached_tokens ?? null,
    ok: outcome.ok,
    error: outcome.error,
    server: null,
    ...(id.scenario !== undefined ? { scenario: id.scenario } : {}),
  };
  return sample;
}

type Release = { at: Instant; group: number[] };
/** Timed releases, earliest first; ties in workload order. */
const releaseFirst = (x: Release, y: Release): boolean => x.at < y.at || (x.at === y.at && x.group[0]! < y.group[0]!);

/** How many of the next timed requests have their bodies built ahead of their release. */
const BODY_LOOKAHEAD = 16;

class Scheduler implements ClockDriven {
  private readonly reqs: readonly PlannedRequest[];
  /** Unfinished dependencies of each request. */
  private readonly waitingOn: Int32Array;
  /** Dependencies not yet sent: at 0 the request's body is built while they run. */
  private readonly notStarted: Int32Array;
  private readonly latestDepEnd: Instant[];
  private readonly dependents: number[][];
  private readonly releasedAt: Instant[] = [];
  private readonly heap = new MinHeap<Release>(releaseFirst);
  /** Released, waiting for a slot, in release order. */
  private readonly ready: number[] = [];
  private readyHead = 0;
  private inFlight = 0;
  private completed = 0;
  private stopped: string | null = null;
  private readonly clock: SchedulerClock;
  private readonly bodies = new Map<string, Buffer>();
  /** Requests not yet sent per body key: a body is dropped after its last use (scenario prompts are large). */
  private readonly usesLeft = new Map<string, number>();
  private finish!: (r: { completed: number; stoppedEarly: string | null }) => void;
  private reject!: (err: unknown) => void;

  constructor(
    private readonly plan: Plan,
    private readonly opts: ReplayOptions,
    private readonly url: URL,
  ) {
    this.reqs = plan.requests;
    this.clock = (opts.clock ?? realClock)(this);
    const n = this.reqs.length;
    this.waitingOn = new Int32Array(n);
    this.notStarted = new Int32Array(n);
    this.latestDepEnd = new Array<Instant>(n).fill(opts.runStart);
    this.dependents = Array.from({ length: n }, () => []);
    for (const r of this.reqs) {
      this.waitingOn[r.index] = r.after.length;
      this.notStarted[r.index] = r.after.length;
      for (const d of r.after) this.dependents[d]!.push(r.index);
      this.usesLeft.set(r.bodyKey, (this.usesLeft.get(r.bodyKey) ?? 0) + 1);
    }
  }

  run(): Promise<{ completed: number; stoppedEarly: string | null }> {
    return new Promise((resolve, reject) => {
      this.finish = resolve;
      this.reject = reject;
      const onAbort = () => this.stop('aborted');
      this.opts.signal?.addEventListener('abort', onAbort, { once: true });
      const done = this.finish;
      this.finish = (r) => {
        this.opts.signal?.removeEventListener('abort', onAbort);
        done(r);
      };
      if (this.opts.signal?.aborted) return this.end();
      // Requests released at the run's start (or at a time after it), grouped by their moment.
      const roots = this.reqs.filter((r) => r.after.length === 0);
      // The first moment's bodies are built before the schedule starts (the original batches
      // did so before their first batch): the schedule's origin is when they are ready.
      const first = roots.reduce((m, r) => Math.min(m, r.delayMs), Infinity);
      for (const r of roots) if (r.delayMs === first) this.bodyOf(r);
      const origin = this.clock.now();
      for (const r of roots) this.latestDepEnd[r.index] = origin > this.opts.runStart ? origin : this.opts.runStart;
      this.scheduleGroups(roots.map((r) => r.index));
      this.pump();
    });
  }

  /** Requests whose conditions are met, grouped by release instant (a batch is one group). */
  private scheduleGroups(indices: number[]): void {
    const byAt = new Map<Instant, number[]>();
    for (const i of indices) {
      const r = this.reqs[i]!;
      const at = this.latestDepEnd[i]! + BigInt(Math.round(r.delayMs * this.opts.timeScale * 1e6));
      let g = byAt.get(at);
      if (!g) byAt.set(at, (g = []));
      g.push(i);
    }
    for (const [at, group] of byAt) this.heap.push({ at, group });
  }

  /** Release what is due at the clock's now, start what fits; the next timed release. */
  step(): Instant | null {
    let next: Instant | null = null;
    this.safely(() => {
      if (this.stopped === null) {
        const t = this.clock.now();
        for (let top = this.heap.peek(); top && top.at <= t; top = this.heap.peek()) {
          this.heap.pop();
          this.release(top.group, top.at);
          if (this.stopped !== null) break;
        }
      }
      while (this.inFlight < this.plan.concurrency && this.readyHead < this.ready.length) this.start(this.ready[this.readyHead++]!);
      if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) this.ready.splice(0, this.readyHead), (this.readyHead = 0);
      next = this.stopped === null ? (this.heap.peek()?.at ?? null) : null;
    });
    return next;
  }

  /** Release what is due, start what fits, then end or let the clock wait for the next release. */
  pump(): void {
    const next = this.step();
    if (this.ended) return;
    if (this.stopped === null && this.heap.size > 0) setImmediate(() => this.safely(() => this.prepareAhead()));
    if (this.inFlight === 0 && (this.stopped !== null || (this.heap.size === 0 && this.readyHead >= this.ready.length))) return this.end();
    this.safely(() => this.clock.wait(next));
  }

  complete(done: readonly EndedRequest[]): void {
    for (const d of done) if (!this.done(this.reqs[d.index]!, d.scheduledAt, d.outcome)) return;
    this.pump();
  }

  fail(err: unknown): void {
    this.safely(() => {
      throw err;
    });
  }

  private release(group: number[], at: Instant): void {
    const stop = this.opts.stopReason?.();
    if (stop) return this.stop(stop);
    for (const i of group) {
      this.releasedAt[i] = at;
      this.ready.push(i);
    }
  }

  /** Bodies of the next timed releases, built before their moment so serializing is not inside TTFT. */
  private prepareAhead(): void {
    const top = this.heap.peek();
    if (!top) return;
    let n = 0;
    for (const i of top.group) {
      this.bodyOf(this.reqs[i]!);
      if (++n >= BODY_LOOKAHEAD) break;
    }
  }

  private bodyOf(r: PlannedRequest): Buffer {
    let body = this.bodies.get(r.bodyKey);
    if (!body) this.bodies.set(r.bodyKey, (body = r.body()));
    return body;
  }

  private start(i: number): void {
    const r = this.reqs[i]!;
    const body = this.bodyOf(r);
    const left = this.usesLeft.get(r.bodyKey)! - 1;
    this.usesLeft.set(r.bodyKey, left);
    if (left === 0) this.bodies.delete(r.bodyKey);
    this.inFlight++;
    const scheduledAt = this.releasedAt[i]!;
    const clockHeaders = this.clock.sendHeaders();
    const headers = clockHeaders ? { ...this.opts.requestHeaders, ...clockHeaders } : this.opts.requestHeaders;
    streamCompletion({
      url: this.url,
      agent: this.opts.agent,
      body,
      timeoutMs: this.opts.requestTimeoutMs,
      ...(headers ? { headers } : {}),
      ...(r.expectPromptTokens !== null ? { expectPromptTokens: r.expectPromptTokens } : {}),
      ...(this.opts.signal ? { signal: this.opts.signal } : {}),
    }).then(
      (outcome) => this.safely(() => this.clock.ended({ index: i, scheduledAt, outcome })),
      (err) => this.fail(err),
    );
    // The bodies of requests whose dependencies have all been sent, built while those run (after
    // this one's bytes are out): a batch's while the previous batch runs, a turn's while the last one does.
    const waiting = this.dependents[i]!.filter((d) => --this.notStarted[d]! === 0);
    if (waiting.length) setImmediate(() => this.safely(() => {
      if (this.stopped === null) for (const d of waiting) this.bodyOf(this.reqs[d]!);
    }));
  }

  /** One request completed (at the clock's times): its sample, and what waits on it. False when the replay failed. */
  private done(r: PlannedRequest, scheduledAt: Instant, outcome: CompletionOutcome): boolean {
    this.inFlight--;
    this.completed++;
    const sample = sampleOf(r, this.opts.runStart, scheduledAt, outcome, this.opts.timeScale);
    try {
      this.opts.onComplete({ sample, outcome, scheduledAt });
    } catch (err) {
      this.fail(err);
      return false;
    }
    // A failed request still releases what waits on it: the schedule is the workload's, not the engine's.
    const released: number[] = [];
    for (const d of this.dependents[r.index]!) {
      if (outcome.endAt > this.latestDepEnd[d]!) this.latestDepEnd[d] = outcome.endAt;
      if (--this.waitingOn[d]! === 0) released.push(d);
    }
    if (released.length && this.stopped === null) this.scheduleGroups(released);
    return true;
  }

  /** Work run from a clock or a completion: a throw (a body that cannot be built) fails the replay, not the process. */
  private safely(fn: () => void): void {
    if (this.ended) return;
    try {
      fn();
    } catch (err) {
      this.ended = true;
      this.stopped ??= 'failed';
      this.clock.cancel();
      this.reject(err);
    }
  }

  private stop(reason: string): void {
    this.stopped ??= reason;
    this.ready.length = this.readyHead; // released but not started: never sent
    if (this.inFlight === 0) this.end();
  }

  private ended = false;
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.clock.cancel();
    if (this.opts.signal?.aborted) return this.reject(this.opts.signal.reason ?? new Error('aborted'));
    this.finish({ completed: this.completed, stoppedEarly: this.stopped === 'aborted' ? null : this.stopped });
  }
}
