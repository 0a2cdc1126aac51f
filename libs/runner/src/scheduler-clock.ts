/**
 * The clock replay.ts's one scheduler runs on. The scheduler owns the plan (release conditions under a
 * concurrency cap); the clock owns how time passes and when a finished stream counts as completed:
 *
 * - the real clock (here) is the agent's monotonic clock: it sleeps until the next timed release, and a
 *   request completes when its stream ends, at the times the client measured;
 * - the virtual clock (virtual-clock.ts) is the simulator's modelled time: it asks the simulator to run
 *   up to the next timed release (POST /sim/advance) and completes requests when the simulator says
 *   they finished, at their modelled times.
 */
import { now, type Instant } from './clock.js';
import type { CompletionOutcome } from './completion.js';

/** A request whose stream has ended: which one, when it was released, what came back. */
export interface EndedRequest {
  index: number;
  scheduledAt: Instant;
  outcome: CompletionOutcome;
}

/** What a clock drives: the scheduler (every call is safe: a throw fails the replay, not the process). */
export interface ClockDriven {
  /** Release what is due at the clock's now, start what fits; returns the next timed release (null: none, or stopped). */
  step(): Instant | null;
  /** step(), then end the replay if nothing is left, else hand the clock the next timed release (SchedulerClock.wait). */
  pump(): void;
  /** These requests completed (their outcomes carry the clock's times), in this order; then pump(). */
  complete(done: readonly EndedRequest[]): void;
  fail(err: unknown): void;
}

export interface SchedulerClock {
  /** The present instant on this clock. */
  now(): Instant;
  /** Headers of a request sent now (the virtual clock's modelled arrival and submission order). */
  sendHeaders(): Record<string, string> | undefined;
  /** A sent request's stream ended: the clock completes it (ClockDriven.complete) when its clock says it did. */
  ended(done: EndedRequest): void;
  /** Everything due at now() is released and started; call ClockDriven.pump() once time reaches `next` (null: no timed release left, wait for completions). */
  wait(next: Instant | null): void;
  /** The replay ended: nothing more is waited for. */
  cancel(): void;
}

/** A clock for one replay, given the scheduler it drives. */
export type ClockFactory = (driven: ClockDriven) => SchedulerClock;

/** Below this many ms to the next release, poll with setImmediate instead of a timer. */
const SPIN_MS = 1;

/** The agent's monotonic clock: timers up to the next release, requests complete as measured. */
export const realClock: ClockFactory = (driven) => {
  let timer: { cancel(): void } | null = null;
  let timerAt: Instant | null = null;
  const cancel = () => {
    timer?.cancel();
    timer = null;
    timerAt = null;
  };
  return {
    now,
    sendHeaders: () => undefined,
    ended: (done) => driven.complete([done]),
    wait(next) {
      if (next === null) return cancel();
      if (timer && timerAt === next) return;
      cancel();
      const ms = Number(next - now()) / 1e6;
      timerAt = next;
      const fire = () => {
        timer = null;
        timerAt = null;
        driven.pump();
      };
      // Timers fire up to a millisecond or two late: wake early and poll the last stretch on the
      // event loop's check phase (which still serves I/O between polls).
      if (ms > SPIN_MS) {
        const t = setTimeout(fire, ms - SPIN_MS);
        timer = { cancel: () => clearTimeout(t) };
      } else {
        const t = setImmediate(fire);
        timer = { cancel: () => clearImmediate(t) };
      }
    },
    cancel,
  };
};
