import { percentile, type Sample } from '@kvbench/common';

/**
 * The progress bar. On a terminal it redraws one line in place (at most every
 * 100 ms); in a log it writes a line per 10% so CI output stays short.
 */
export class Progress {
  total: number | null = null;
  private done = 0;
  private failed = 0;
  private ttfts: number[] = [];
  /** Samples the server had stored when we connected (replayed in a burst, so not a pace). */
  replayed = 0;
  /** When the first live sample arrived, and how many were done then. */
  private paceFrom: { at: number; done: number } | null = null;
  private lastDraw = 0;
  private lastLine = '';
  private lastDecile = -1;
  private readonly tty: boolean;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly runId: string,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  reset(): void {
    this.done = 0;
    this.failed = 0;
    this.ttfts = [];
    this.paceFrom = null;
    this.replayed = 0;
    this.lastDecile = -1;
  }

  add(s: Sample): void {
    this.done++;
    if (this.paceFrom === null && this.done > this.replayed) this.paceFrom = { at: Date.now(), done: this.done };
    if (!s.ok || s.ttft_s === null) this.failed++;
    else this.ttfts.push(s.ttft_s);
    this.draw(false);
  }

  note(text: string): void {
    this.out.write(`${this.tty ? '\r\x1b[2K' : ''}${text}\n`);
  }

  line(): string {
    const total = this.total;
    const frac = total ? Math.min(1, this.done / total) : 0;
    const width = 30;
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
    const p50 = percentile(this.ttfts, 50);
    let eta = '';
    const live = this.paceFrom ? this.done - this.paceFrom.done : 0;
    if (total && this.paceFrom && live > 0 && this.done < total) {
      const perRequest = (Date.now() - this.paceFrom.at) / 1000 / live;
      eta = `  ETA ${fmtDuration(perRequest * (total - this.done))}`;
    }
    return (
      `${this.runId} ${bar} ${this.done}/${total ?? '?'} requests` +
      `  TTFT p50 ${p50 === null ? '-' : `${(p50 * 1000).toFixed(1)} ms`}` +
      (this.failed ? `  failed ${this.failed}` : '') +
      eta
    );
  }

  draw(force: boolean): void {
    if (this.tty) {
      const now = Date.now();
      if (!force && now - this.lastDraw < 100 && this.done !== this.total) return;
      this.lastDraw = now;
      this.out.write(`\r\x1b[2K${this.line()}`);
      return;
    }
    const decile = this.total ? Math.floor((10 * this.done) / this.total) : -1;
    if (!force && decile === this.lastDecile) return;
    this.lastDecile = decile;
    const line = this.line();
    if (line !== this.lastLine) this.out.write(`${line}\n`);
    this.lastLine = line;
  }

  finish(status: string): void {
    this.draw(true);
    this.out.write(`${this.tty ? '\n' : ''}run ${this.runId} ${status}\n`);
  }
}

function fmtDuration(s: number): string {
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.ceil(s - 60 * m)} s`;
}

/** Seconds as `123.4 ms` below one second, `1.234 s` above. */
export function fmtSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '-';
  if (s < 1) return `${(s * 1000).toFixed(1)} ms`;
  return `${s.toFixed(3)} s`;
}
