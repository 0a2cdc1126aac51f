import { percentile, type RunResult, type Sample } from '@kvbench/common';

/**
 * One status line on stderr: requests done of total, running TTFT p50, ETA.
 * Redrawn in place on a terminal; a line every 10% otherwise (CI logs).
 */
export class ProgressLine {
  private completed = 0;
  private failed = 0;
  private readonly ttfts: number[] = [];
  private readonly started = Date.now();
  private lastDecile = -1;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private total: number,
    private readonly prefix = '',
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {}

  setTotal(total: number): void {
    this.total = total;
  }

  add(sample: Sample): void {
    this.completed++;
    if (!sample.ok) this.failed++;
    if (sample.ttft_s !== null) this.ttfts.push(sample.ttft_s);
    this.render();
  }

  render(): void {
    const frac = this.total > 0 ? Math.min(1, this.completed / this.total) : 0;
    const decile = Math.floor(frac * 10);
    if (!this.tty && decile === this.lastDecile && this.completed !== this.total) return;
    this.lastDecile = decile;
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const p50 = percentile(this.ttfts, 50);
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = this.completed > 0 && this.completed < this.total ? (elapsed / this.completed) * (this.total - this.completed) : 0;
    const line =
      `${this.prefix}[${bar}] ${this.completed}/${this.total} requests` +
      `  TTFT p50 ${p50 === null ? '-' : fmtSeconds(p50)}` +
      (this.failed ? `  failed ${this.failed}` : '') +
      (eta > 0 ? `  ETA ${Math.ceil(eta)} s` : '');
    this.out.write(this.tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }

  /** End the line (on a terminal the bar was redrawn in place). */
  finish(): void {
    if (this.tty) this.out.write('\n');
  }
}

export function fmtSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '-';
  if (s < 1) return `${(s * 1000).toFixed(1)} ms`;
  return `${s.toFixed(3)} s`;
}

const fmtNum = (v: unknown, digits = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-');

/** The aggregate and log_metrics of one run as a small table on stdout. */
export function printRunSummary(label: string, r: RunResult): void {
  const a = r.aggregate as Record<string, unknown>;
  const m = r.log_metrics as Record<string, unknown>;
  const simulated = (r.run_meta as Record<string, unknown>).simulated === true;
  const rows: [string, string][] = [
    ['requests', `${a.n_ok ?? r.samples.length} ok, ${a.n_failed ?? 0} failed`],
    ['throughput', `${fmtNum(a.throughput_req_per_s, 3)} req/s`],
    ['TTFT p50 / p95 / p99', [a.ttft_p50_s, a.ttft_p95_s, a.ttft_p99_s].map((v) => fmtSeconds(v as number)).join(' / ')],
    ['latency p50 / p95 / p99', [a.latency_p50_s, a.latency_p95_s, a.latency_p99_s].map((v) => fmtSeconds(v as number)).join(' / ')],
    ['cache hit rate', fmtNum(m.cache_hit_rate, 3)],
    ['reused blocks', fmtNum(m.reused_blocks, 0)],
    ['offloaded / onboarded blocks', `${fmtNum(m.offloaded_blocks, 0)} / ${fmtNum(m.onboarded_blocks, 0)}`],
    ['offload bandwidth', `${fmtNum(m.observed_offload_bandwidth_gbps, 1)} GB/s`],
  ];
  console.log(`\n${label}${simulated ? ' (SIMULATED)' : ''}`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(30)} ${v}`);
}
