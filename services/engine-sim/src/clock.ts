/**
 * Waiting for a point on the modelled timeline. Emission times are absolute (hrtime ns), never
 * accumulated delays, so a late wake-up does not push later tokens back.
 *
 * setTimeout alone wakes up to a millisecond or more late; the last `spinMs` before the target
 * are covered with setImmediate turns instead, which still let I/O through between checks.
 */
export const now = (): bigint => process.hrtime.bigint();

export function sleepUntil(targetNs: bigint, spinMs: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      const remainingMs = Number(targetNs - process.hrtime.bigint()) / 1e6;
      if (remainingMs <= 0) return resolve();
      if (remainingMs > spinMs) setTimeout(check, remainingMs - spinMs);
      else setImmediate(check);
    };
    check();
  });
}
