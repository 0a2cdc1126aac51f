import type { RunDetail } from '../api-schemas.js';

/**
 * An engine's log tail can hold anything the engine printed (paths, environment, a file it was
 * made to open: issue 25), so it goes only to authenticated readers: with READ_TOKEN set every
 * read is authenticated; without one, tails are withheld and the reason is said in their place.
 */
export const LOG_TAIL_WITHHELD = 'log tail withheld: this aggregator has no READ_TOKEN, so its readers are not authenticated (read the engine log in the agent work dir)';

export function runWithLogTails(run: RunDetail, shown: boolean): RunDetail {
  if (shown) return run;
  return { ...run, attempts: run.attempts.map((a) => (a.log_tail === null ? a : { ...a, log_tail: null, log_tail_withheld: LOG_TAIL_WITHHELD })) };
}

export function eventWithLogTail<T>(event: T, shown: boolean): T {
  if (shown || event === null || typeof event !== 'object' || !('log_tail' in event)) return event;
  return { ...event, log_tail: [], log_tail_withheld: LOG_TAIL_WITHHELD };
}
