/**
 * The workload replayed on the simulator's virtual clock (`--clock virtual`): the same plan (release
 * conditions under a concurrency cap, plan.ts) and the same /v1/completions requests and streams,
 * but time is the simulator's modelled time and nothing waits on the wall clock.
 *
 * A conservative discrete-event lockstep (docs/DESIGN.md, "Virtual clock"): this scheduler knows the
 * earliest moment H at which it could still submit a request (its next timed release); it submits
 * every request due before then, each with its modelled arrival (header x-kvbench-arrival-s), and
 * asks the simulator to run the iterations that start before H (POST /sim/advance). The simulator
 * stops after an iteration that finished a request, since that completion can release the next
 * turn at its end; the scheduler then takes the finished requests' modelled times, frees their
 * slots, schedules what they release and goes on. A request's sample takes the modelled times the
 * simulator reports (arrival, first token, every token, end) on a virtual clock starting at 0, so
 * the same seed gives the same samples, byte for byte, however loaded the host is.
 */
import type { Job } from '@kvbench/common';
import { MinHeap } from './min-heap.js';
import { streamCompletion, type CompletionOutcome } from './completion.js';
import { planWorkload, type PlannedRequest } from './plan.js';
import { sampleOf, type ReplayOptions } from './replay.js';
import type { Instant } from './clock.js';
import type { ClockRelation } from './stats/perf-metrics.js';

/** The simulator's arrival header (services/engine-sim/src/server.ts ARRIVAL_HEADER; libs never import services). */
export const VIRTUAL_ARRIVAL_HEADER = 'x-kvbench-arrival-s';

/** Engine option `clock`: "virtual" runs the simulator on the virtual clock. */
export function clockOf(job: Job): 'real' | 'virtual' {
  return job.engine.kind === 'sim' && job.engine.options['clock'] === 'virtual' ? 'virtual' : 'real';
}

/** Engine and client share the modelled timeline: no offset, no error. */
export const VIRTUAL_CLOCK_RELATION: ClockRelation = { offsetS: 0, errorS: 0, how: 'virtual clock: the simulator reports every modelled time, client and engine share that timeline' };

/** Modelled seconds as an Instant of the virtual clock (ns from the run's modelled start). */
export const virtualInstant = (s: number): Instant => BigInt(Math.round(s * 1e9));

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

/** (time, request index): timed releases, earliest first, ties in workload order. */
const timeFirst = (x: [number, number], y: [number, number]): boolean => x[0] < y[0] || (x[0] === y[0] && x[1] < y[1]);

export class VirtualClockError extends Error {}

/** How long to let the statistics reader drain /metrics when the simulator reports a backlog. */
const STATS_BACKLOG_WAIT_MS = 50;

export async function replayVirtual(opts: ReplayOptions): Promise<{ completed: number; stoppedEarly: string | null }> {
  const plan = planWorkload(opts.workload, opts.job);
  const base = opts.baseUrl.href.endsWith('/') ? opts.baseUrl : new URL(opts.baseUrl.href + '/');
  const url = new URL('v1/completions', base);
  const advanceUrl = new URL('sim/advance', base);
  const reqs = plan.requests;
  const n = reqs.length;
  const waitingOn = new Int32Array(n);
  const latestDepEnd = new Float64Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  const releasedAt = new Float64Array(n);
  const heap = new MinHeap<[number, number]>(timeFirst);
  const ready: number[] = [];
  let readyHead = 0;
  let inFlight = 0;
  let submitted = 0;
  let completed = 0;
  let stopped: string | null = null;
  const bodies = new Map<string, Buffer>();
  const usesLeft = new Map<string, number>();
  /** Outcomes by response id, and what waits for one. */
  const outcomes = new Map<string, { r: PlannedRequest; outcome: CompletionOutcome }>();
  const outcomeWaiters = new Map<string, () => void>();
  /** Requests that ended without the engine running them (refused, broken): settled at the next step. */
  const failedEarly: Array<{ r: PlannedRequest; outcome: CompletionOutcome; arrival: number }> = [];
  let wakeFailed: (() => void) | null = null;
  let fatal: unknown = null;

  for (const r of reqs) {
    waitingOn[r.index] = r.after.length;
    for (const d of r.after) dependents[d]!.push(r.index);
    usesLeft.set(r.bodyKey, (usesLeft.get(r.bodyKey) ?? 0) + 1);
    if (r.after.length === 0) heap.push([r.delayMs / 1000, r.index]);
  }
  const onAbort = () => (stopped ??= 'aborted');
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const bodyOf = (r: PlannedRequest): Buffer => {
    let body = bodies.get(r.bodyKey);
    if (!body) bodies.set(r.bodyKey, (body = r.body()));
    const left = usesLeft.get(r.bodyKey)! - 1;
    usesLeft.set(r.bodyKey, left);
    if (left === 0) bodies.delete(r.bodyKey);
    return body;
  };

  const release = (at: number) => {
    for (let top = heap.peek(); top && top[0] <= at && stopped === null; top = heap.peek()) {
      heap.pop();
      const stop = opts.stopReason?.();
      if (stop) {
        stopped = stop;
        break;
      }
      releasedAt[top[1]] = top[0];
      ready.push(top[1]);
    }
    if (stopped !== null) ready.length = readyHead; // released but not started: never sent
  };

  /** Starts what fits at modelled time `at`. */
  const startReady = (at: number) => {
    while (inFlight < plan.concurrency && readyHead < ready.length) {
      const i = ready[readyHead++]!;
      const r = reqs[i]!;
      inFlight++;
      submitted++;
      const arrival = Math.max(at, releasedAt[i]!);
      streamCompletion({
        url,
        agent: opts.agent,
        body: bodyOf(r),
        timeoutMs: opts.requestTimeoutMs,
        headers: { ...opts.requestHeaders, [VIRTUAL_ARRIVAL_HEADER]: String(arrival) },
        ...(r.expectPromptTokens !== null ? { expectPromptTokens: r.expectPromptTokens } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }).then(
        (outcome) => {
          // A request the engine answered with an error never runs on its timeline.
          if (outcome.responseId === null || outcome.httpStatus !== 200) {
            failedEarly.push({ r, outcome, arrival });
            wakeFailed?.();
            return;
          }
          outcomes.set(outcome.responseId, { r, outcome });
          outcomeWaiters.get(outcome.responseId)?.();
        },
        (err) => (fatal = err),
      );
    }
  };

  const complete = (r: PlannedRequest, outcome: CompletionOutcome, times: { arrival: number; firstToken: number | null; end: number; tokens: number[] } | null) => {
    inFlight--;
    completed++;
    const scheduledAt = virtualInstant(releasedAt[r.index]!);
    if (times) {
      // The modelled times are the sample's times (the wall-clock ones measured the host, not the model).
      outcome.sentAt = virtualInstant(times.arrival);
      outcome.firstTextAt = outcome.firstTextAt === null || times.firstToken === null ? null : virtualInstant(times.firstToken);
      outcome.endAt = virtualInstant(times.end);
      outcome.textChunkTimes = times.tokens.map(virtualInstant);
    } else {
      const at = virtualInstant(releasedAt[r.index]!);
      outcome.sentAt = outcome.sentAt === null ? null : at;
      outcome.firstTextAt = null;
      outcome.endAt = at;
      outcome.textChunkTimes = [];
    }
    const sample = sampleOf(r, 0n, scheduledAt, outcome, 1);
    opts.onComplete({ sample, outcome, scheduledAt });
    const end = times?.end ?? releasedAt[r.index]!;
    for (const d of dependents[r.index]!) {
      if (end > latestDepEnd[d]!) latestDepEnd[d] = end;
      if (--waitingOn[d]! === 0 && stopped === null) heap.push([latestDepEnd[d]! + reqs[d]!.delayMs / 1000, d]);
    }
  };

  const waitOutcome = (id: string) =>
    outcomes.has(id)
      ? Promise.resolve()
      : new Promise<void>((resolve) => outcomeWaiters.set(id, () => (outcomeWaiters.delete(id), resolve())));

  const advance = async (until: number | null): Promise<AdvanceAnswer> => {
    const res = await fetch(advanceUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ until_s: until, submitted }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const text = await res.text();
    if (res.status !== 200) throw new VirtualClockError(`POST /sim/advance: HTTP ${res.status}: ${text.slice(0, 300)} (does this engine run with --clock virtual?)`);
    return JSON.parse(text) as AdvanceAnswer;
  };

  try {
    let v = 0;
    for (;;) {
      if (fatal) throw fatal;
      while (failedEarly.length) {
        const f = failedEarly.shift()!;
        complete(f.r, f.outcome, null);
      }
      release(v);
      startReady(v);
      if (inFlight === 0) {
        const next = stopped === null ? heap.peek() : undefined;
        if (!next) break;
        v = next[0];
        continue;
      }
      const H = stopped === null ? (heap.peek()?.[0] ?? null) : null;
      const a = await advance(H);
      if (a.stats_backlog && a.finished.length === 0) {
        // Let the statistics reader poll (real time; the modelled results do not depend on it).
        await new Promise((r) => setTimeout(r, STATS_BACKLOG_WAIT_MS));
        continue;
      }
      if (a.finished.length > 0) {
        const e = a.finished[0]!.end_s;
        // Timed releases before that iteration's end, at their own moments (the finishing requests still hold their slots).
        for (let top = heap.peek(); top && top[0] < e && stopped === null; top = heap.peek()) {
          release(top[0]);
          startReady(top[0]);
        }
        for (const f of a.finished) {
          if (f.response_id === null) throw new VirtualClockError('POST /sim/advance reported a finished request without its response id');
          await waitOutcome(f.response_id);
          const { r, outcome } = outcomes.get(f.response_id)!;
          outcomes.delete(f.response_id);
          complete(r, outcome, { arrival: f.arrival_s, firstToken: f.first_token_s, end: f.end_s, tokens: f.token_times_s });
        }
        v = e;
      } else if (H !== null) {
        v = Math.max(v, H);
      } else if (!a.idle) {
        throw new VirtualClockError(`the simulator ran no iteration at modelled time ${a.now_s} s with ${inFlight} request(s) in flight`);
      } else {
        // The simulator has nothing left while requests are in flight: they ended without running (refused); wait for their answers.
        if (failedEarly.length === 0) await new Promise<void>((resolve) => (wakeFailed = resolve));
        wakeFailed = null;
      }
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
  return { completed, stoppedEarly: stopped === 'aborted' ? null : stopped };
}
