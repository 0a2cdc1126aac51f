import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '@kvbench/common';
import { EVENTS_STREAM, eventSubject } from '@kvbench/bus';
import type { RunDetail } from '../api-schemas.js';
import { getRun } from '../store/runs.js';

/**
 * How long a request for a run the store does not hold yet is kept open.
 * `acceptedMs`: the run's `accepted` event is on the bus but not ingested yet (the
 * workload-api answers 202 only after JetStream stored it, so a client that follows a run at
 * once lands here). `unknownMs`: nothing on the bus either; a short grace before the 404.
 */
declare module 'fastify' {
  interface FastifyInstance {
    runWait: RunWaitBounds;
  }
}

export interface RunWaitBounds {
  acceptedMs: number;
  unknownMs: number;
}

/**
 * The run, waiting for it when it was accepted but its events are still on their way in.
 * Throws NotFoundError once the bound passes (or at once when the client went away).
 */
export async function knownRunOrWait(app: FastifyInstance, runId: string, signal?: AbortSignal, bounds: RunWaitBounds = app.runWait): Promise<RunDetail> {
  const now = getRun(app.db, runId);
  if (now) return now;
  // Subscribe before looking again: a commit in between then wakes us instead of being missed.
  let wake!: () => void;
  const stored = new Promise<void>((resolve) => (wake = resolve));
  const unsubscribe = app.notices.subscribe(runId, () => wake());
  try {
    const again = getRun(app.db, runId);
    if (again) return again;
    const waitMs = (await acceptedOnBus(app, runId)) ? bounds.acceptedMs : bounds.unknownMs;
    const deadline = Date.now() + waitMs;
    const gone = aborted(signal);
    while (!signal?.aborted) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await Promise.race([stored, sleep(Math.min(left, 250)), gone]);
      const run = getRun(app.db, runId);
      if (run) return run;
    }
  } finally {
    unsubscribe();
  }
  throw new NotFoundError('run', runId);
}

/** Whether the run's accepted event is in the events stream (false when this aggregator has no bus). */
async function acceptedOnBus(app: FastifyInstance, runId: string): Promise<boolean> {
  if (!app.hasDecorator('nats')) return false;
  try {
    const msg = await app.nats.jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: eventSubject(runId, 'accepted') });
    return msg !== null;
  } catch {
    // Not found (or the bus is away): treat as unknown, which still waits the short bound.
    return false;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
const aborted = (signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (!signal) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });

/** Aborted when the client hangs up before the response is complete. */
export function clientGone(raw: { on(event: 'close', fn: () => void): unknown; writableFinished: boolean }): AbortSignal {
  const ac = new AbortController();
  raw.on('close', () => {
    if (!raw.writableFinished) ac.abort();
  });
  return ac.signal;
}
