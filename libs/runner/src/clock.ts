/**
 * The agent's clock: process.hrtime.bigint(), which on Linux is CLOCK_MONOTONIC —
 * the same clock as C++ std::chrono::steady_clock and Python's time.monotonic(),
 * which is what TensorRT-LLM's /perf_metrics "steady-clock seconds" are. On one
 * host, `monotonicSeconds(t)` and the engine's timestamps are therefore directly
 * comparable.
 */
export type Instant = bigint;

export const now = (): Instant => process.hrtime.bigint();

/** Seconds between two instants. */
export const secondsBetween = (from: Instant, to: Instant): number => Number(to - from) / 1e9;

/** An instant as seconds of the monotonic clock (comparable with steady-clock seconds on this host). */
export const monotonicSeconds = (t: Instant): number => Number(t) / 1e9;
