/**
 * The simulator's virtual clock (`--clock virtual`) as a clock for replay.ts's scheduler: the same plan,
 * the same /v1/completions requests and streams, but time is the simulator's modelled time and nothing
 * waits on the wall clock.
 *
 * A conservative discrete-event lockstep (docs/DESIGN.md, "Virtual clock"): the scheduler releases and
 * starts everything due at the clock's now (each request carrying its modelled arrival, header
 * x-kvbench-arrival-s, and its submission number, x-kvbench-seq) and hands over its next timed release
 * H; the clock asks the simulator to run the iterations that start before H (POST /sim/advance). The
 * simulator stops after an iteration that finished a request, since that completion can release the
 * next turn at its end: the clock first lets the scheduler release what was due before that end (at
 * those moments), then completes the finished requests at their modelled times (arrival, first token,
 * every token, end) and moves its now to the end. A request's sample is on a virtual clock starting at
 * 0, so the same seed gives the same samples, byte for byte, however loaded the host is.
 */
import type { Job } from '@kvbench/common';
import type { Instant } from './clock.js';
import type { ClockDriven, ClockFactory, EndedRequest, SchedulerClock } from './scheduler-clock.js';
import type { ClockRelation } from './stats/perf-metrics.js';

/** The simulator's arrival header (services/engine-sim/src/server.ts ARRIVAL_HEADER; libs never import services). */
export const VIRTUAL_ARRIVAL_HEADER = 'x-kvbench-arrival-s';
/** The client's submission number (server.ts SEQ_HEADER): requests arriving together queue in this order, not the network's. */
export const VIRTUAL_SEQ_HEADER = 'x-kvbench-seq';

/** Engine option `clock`: "virtual" runs the simulator on the virtual clock. */
export function clockOf(job: Job): 'real' | 'virtual' {
  return job.engine.kind === 'sim' && job.engine.options['clock'] === 'virtual' ? 'virtual' : 'real';
}

/** Engine and client share the modelled timeline: no offset, no error. */
export const VIRTUAL_CLOCK_RELATION: ClockRelation = { offsetS: 0, errorS: 0, how: 'virtual clock: the simulator reports every modelled time, client and engine share that timeline' };

/** Modelled seconds as an Instant of the virtual clock (ns from the run's modelled start). */
export const virtualInstant = (s: number): Instant => BigInt(Math.round(s * 1e9));

export class VirtualClockError extends Error {}

interface Finished {
  response_id: string | null;
  arrival_s: number;
  first_scheduled_s: number;
  first_token_s: number;
  end_s: number;
  token_times_s: number[];
}

interface AdvanceAnswer {
  now_s: number;
  idle: boolean;
  /** The engine's iteration-statistics queue needs a read of /metrics before it runs on. */
  stats_backlog?: boolean;
  finished: Finished[];
}

/** How long to let the statistics reader drain /metrics when the simulator reports a backlog. */
const STATS_BACKLOG_WAIT_MS = 50;

/** The virtual clock of the simulator at `baseUrl`. */
export function virtualClock(baseUrl: URL, signal?: AbortSignal): ClockFactory {
  const base = baseUrl.href.endsWith('/') ? baseUrl : new URL(baseUrl.href + '/');
  return (driven) => new VirtualClock(driven, new URL('sim/advance', base), signal);
}

class VirtualClock implements SchedulerClock {
  /** The modelled present, exact (an Instant rounds to the ns; the simulator is told these seconds). */
  private nowS = 0;
  private submitted = 0;
  /** Sent and not yet completed. */
  private outstanding = 0;
  private advancing = false;
  private cancelled = false;
  /** Streams that ended with 200, by response id, until the simulator reports them finished. */
  private readonly streams = new Map<string, EndedRequest>();
  private readonly streamWaiters = new Map<string, () => void>();
  /** Requests that ended without the engine running them (refused, broken): completed at their release. */
  private failedEarly: EndedRequest[] = [];
  private wakeFailed: (() => void) | null = null;

  constructor(
    private readonly driven: ClockDriven,
    private readonly advanceUrl: URL,
    private readonly signal?: AbortSignal,
  ) {}

  now(): Instant {
    return virtualInstant(this.nowS);
  }

  sendHeaders(): Record<string, string> {
    this.outstanding++;
    return { [VIRTUAL_ARRIVAL_HEADER]: String(this.nowS), [VIRTUAL_SEQ_HEADER]: String(this.submitted++) };
  }

  ended(done: EndedRequest): void {
    const o = done.outcome;
    // A request the engine answered with an error never runs on its timeline.
    if (o.responseId === null || o.httpStatus !== 200) {
      this.failedEarly.push(done);
      this.wakeFailed?.();
      return;
    }
    this.streams.set(o.responseId, done);
    this.streamWaiters.get(o.responseId)?.();
  }

  wait(next: Instant | null): void {
    if (this.cancelled || this.advancing) return;
    if (this.outstanding === 0) {
      // Nothing runs until the next release: jump to it.
      if (next === null) return;
      this.nowS = Math.max(this.nowS, Number(next) / 1e9);
      setImmediate(() => this.driven.pump());
      return;
    }
    this.advancing = true;
    this.advance(next).catch((err) => {
      this.advancing = false;
      this.driven.fail(err);
    });
  }

  cancel(): void {
    this.cancelled = true;
  }

  private async advance(next: Instant | null): Promise<void> {
    const until = next === null ? null : Number(next) / 1e9;
    let a = await this.post(until);
    while (a.stats_backlog && a.finished.length === 0) {
      // Let the statistics reader poll (real time; the modelled results do not depend on it).
      await new Promise((r) => setTimeout(r, STATS_BACKLOG_WAIT_MS));
      a = await this.post(until);
    }
    if (a.finished.length > 0) {
      const end = a.finished[0]!.end_s;
      const endAt = virtualInstant(end);
      // Timed releases before that iteration's end, at their own moments (the finishing requests still hold their slots).
      for (let n = next; n !== null && n < endAt; n = this.driven.step()) this.nowS = Number(n) / 1e9;
      const done: EndedRequest[] = [];
      for (const f of a.finished) {
        if (f.response_id === null) throw new VirtualClockError('POST /sim/advance reported a finished request without its response id');
        const d = await this.streamOf(f.response_id);
        // The modelled times are the sample's times (wall-clock ones would measure the host, not the model).
        const o = d.outcome;
        o.sentAt = virtualInstant(f.arrival_s);
        o.firstTextAt = o.firstTextAt === null ? null : virtualInstant(f.first_token_s);
        o.endAt = virtualInstant(f.end_s);
        o.textChunkTimes = f.token_times_s.map(virtualInstant);
        done.push(d);
      }
      this.nowS = end;
      return this.settle(done);
    }
    if (next !== null) {
      this.nowS = Math.max(this.nowS, until!);
      return this.settle([]);
    }
    if (!a.idle) throw new VirtualClockError(`the simulator ran no iteration at modelled time ${a.now_s} s with ${this.outstanding} request(s) in flight`);
    // The simulator has nothing left while requests are in flight: they ended without running (refused); wait for their answers.
    if (this.failedEarly.length === 0) await new Promise<void>((resolve) => (this.wakeFailed = resolve));
    this.wakeFailed = null;
    this.settle([]);
  }

  /** Completes `done` and the requests that failed early (at their release), then the scheduler goes on. */
  private settle(done: EndedRequest[]): void {
    for (const f of this.failedEarly) {
      const o = f.outcome;
      o.sentAt = o.sentAt === null ? null : f.scheduledAt;
      o.firstTextAt = null;
      o.endAt = f.scheduledAt;
      o.textChunkTimes = [];
      done.push(f);
    }
    this.failedEarly = [];
    this.outstanding -= done.length;
    this.advancing = false;
    if (!this.cancelled) this.driven.complete(done);
  }

  private streamOf(id: string): Promise<EndedRequest> {
    const take = () => {
      const d = this.streams.get(id)!;
      this.streams.delete(id);
      return d;
    };
    if (this.streams.has(id)) return Promise.resolve(take());
    return new Promise((resolve) =>
      this.streamWaiters.set(id, () => {
        this.streamWaiters.delete(id);
        resolve(take());
      }),
    );
  }

  private async post(until: number | null): Promise<AdvanceAnswer> {
    const res = await fetch(this.advanceUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ until_s: until, submitted: this.submitted }),
      ...(this.signal ? { signal: this.signal } : {}),
    });
    const text = await res.text();
    if (res.status !== 200) throw new VirtualClockError(`POST /sim/advance: HTTP ${res.status}: ${text.slice(0, 300)} (does this engine run with --clock virtual?)`);
    return JSON.parse(text) as AdvanceAnswer;
  }
}
