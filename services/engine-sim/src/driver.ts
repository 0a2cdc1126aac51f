/**
 * Runs the modelled engine against real time. Modelled time t (seconds) maps to steady-clock
 * time epoch + t × time_scale. Each iteration is computed when it starts; its results are
 * delivered when the clock reaches its modelled end; the next iteration starts at that modelled
 * end (not at the moment the wake-up really happened), so late wake-ups never accumulate.
 */
import { sleepUntil, now } from './clock.js';
import type { Engine, EngineRequest, IterationResult } from './engine.js';

export interface EmissionRecord {
  /** Steady-clock ns the token was due. */
  dueNs: bigint;
  /** Steady-clock ns it was handed to the socket. */
  sentNs: bigint;
  /** Steady-clock ns the server woke up to write this iteration's tokens (sent − wake is its own work). */
  wakeNs: bigint;
}

export class RealtimeDriver {
  readonly epochNs: bigint;
  private running = false;
  private lastEnd = 0;
  private closed = false;

  constructor(
    readonly engine: Engine,
    readonly timeScale: number,
    /**
     * Called when an iteration is computed, before waiting for its end: builds what will be
     * written, so that at the due time only the writes remain. Returns the function that writes.
     */
    private readonly prepare: (r: IterationResult, dueNs: bigint) => () => void,
    private readonly spinMs: number,
    epochNs: bigint = now(),
  ) {
    this.epochNs = epochNs;
  }

  /** Modelled seconds now. */
  modelNow(): number {
    return Number(now() - this.epochNs) / 1e9 / this.timeScale;
  }

  /** Steady-clock ns of modelled time t. */
  wallNs(t: number): bigint {
    return this.epochNs + BigInt(Math.round(t * this.timeScale * 1e9));
  }

  /** Steady-clock seconds (process.hrtime, CLOCK_MONOTONIC) of modelled time t. */
  steadySeconds(t: number): number {
    return Number(this.wallNs(t)) / 1e9;
  }

  submit(req: EngineRequest): void {
    this.engine.enqueue(req, this.modelNow());
    this.kick();
  }

  cancel(id: number): void {
    this.engine.cancel(id);
    this.kick();
  }

  private kick(): void {
    if (this.running || this.closed) return;
    this.running = true;
    void this.loop(Math.max(this.modelNow(), this.lastEnd));
  }

  private async loop(t: number): Promise<void> {
    for (;;) {
      if (this.closed) break;
      const r = this.engine.step(t);
      if (!r) {
        // Idle only until the next queued request's arrival: resume the timeline there.
        const next = this.engine.queuedArrivalAfter(t);
        if (next === null) break;
        t = next;
        continue;
      }
      const due = this.wallNs(r.end);
      const flush = this.prepare(r, due);
      await sleepUntil(due, this.spinMs);
      flush();
      t = r.end;
      this.lastEnd = t;
    }
    this.running = false;
  }

  close(): void {
    this.closed = true;
  }
}
