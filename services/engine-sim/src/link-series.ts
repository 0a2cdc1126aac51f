/**
 * What each iteration moved over the modelled CPU–GPU link (issue 23): onboards host→GPU and
 * offloads GPU→host, in bytes, at the iteration's modelled start. The engine adds one entry where
 * it already counts an iteration's transfers; `GET /sim/link_series?after=<iter>` serves them to
 * the telemetry sampler, which sums them into periods. Bounded: the oldest entries go first
 * (and are counted as dropped) when nobody reads.
 */
export interface LinkEntry {
  iter: number;
  start_s: number;
  end_s: number;
  h2d_bytes: number;
  d2h_bytes: number;
}

export class LinkSeries {
  private entries: LinkEntry[] = [];
  private droppedSinceRead = 0;
  /** Totals since the engine started (for invariant checks). */
  totalH2dBytes = 0;
  totalD2hBytes = 0;

  constructor(private readonly max = 200_000) {}

  record(e: LinkEntry): void {
    this.totalH2dBytes += e.h2d_bytes;
    this.totalD2hBytes += e.d2h_bytes;
    this.entries.push(e);
    if (this.entries.length > this.max) {
      const n = this.entries.length - this.max;
      this.entries.splice(0, n);
      this.droppedSinceRead += n;
    }
  }

  /** Entries of iterations after `after` (and forget those up to it). */
  since(after: number): { entries: LinkEntry[]; next_after: number; dropped: number } {
    let i = 0;
    while (i < this.entries.length && this.entries[i]!.iter <= after) i++;
    this.entries.splice(0, i);
    const out = this.entries.slice();
    const dropped = this.droppedSinceRead;
    this.droppedSinceRead = 0;
    return { entries: out, next_after: out.length ? out[out.length - 1]!.iter : after, dropped };
  }
}
