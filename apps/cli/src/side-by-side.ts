import type { ResultsDocument, RunResult } from '@kvbench/common';
import { fmtSeconds } from './progress.js';

interface MetricRow {
  label: string;
  get: (r: RunResult) => number | null | undefined;
  fmt: (v: number | null | undefined) => string;
}

const num = (digits: number, unit = '') => (v: number | null | undefined) =>
  typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(digits)}${unit}` : '-';
const agg = (k: string) => (r: RunResult) => (r.aggregate as Record<string, number | null>)[k];
const lm = (k: string) => (r: RunResult) => (r.log_metrics as Record<string, number | null | undefined>)[k];

const ROWS: MetricRow[] = [
  { label: 'TTFT p50', get: agg('ttft_p50_s'), fmt: fmtSeconds },
  { label: 'TTFT p95', get: agg('ttft_p95_s'), fmt: fmtSeconds },
  { label: 'TTFT p99', get: agg('ttft_p99_s'), fmt: fmtSeconds },
  { label: 'latency p50', get: agg('latency_p50_s'), fmt: fmtSeconds },
  { label: 'latency p95', get: agg('latency_p95_s'), fmt: fmtSeconds },
  { label: 'latency p99', get: agg('latency_p99_s'), fmt: fmtSeconds },
  { label: 'throughput (req/s)', get: agg('throughput_req_per_s'), fmt: num(3) },
  { label: 'cache hit rate', get: lm('cache_hit_rate'), fmt: num(3) },
  { label: 'offloaded blocks', get: lm('offloaded_blocks'), fmt: num(0) },
  { label: 'onboarded blocks', get: lm('onboarded_blocks'), fmt: num(0) },
  { label: 'offload bandwidth', get: lm('observed_offload_bandwidth_gbps'), fmt: num(1, ' GB/s') },
];

/**
 * The latest run of each system side by side, with other/baseline ratios.
 * Point figures only: the paired comparison with confidence intervals is `kvbench report`.
 */
export function renderSideBySide(doc: ResultsDocument, baseline = 'pcie'): string {
  const labels = Object.keys(doc.runs).sort((a, b) => (a === baseline ? -1 : b === baseline ? 1 : a.localeCompare(b)));
  const latest = labels.map((l) => doc.runs[l]![doc.runs[l]!.length - 1]!);
  const base = labels.includes(baseline) ? 0 : -1;
  const header = ['metric', ...labels, ...(base === 0 ? labels.slice(1).map((l) => `${l}/${baseline}`) : [])];
  const lines = ROWS.map((row) => {
    const vals = latest.map((r) => row.get(r));
    const ratios =
      base === 0
        ? vals.slice(1).map((v) => {
            const b = vals[0];
            return typeof v === 'number' && typeof b === 'number' && b !== 0 ? `${(v / b).toFixed(2)}×` : '-';
          })
        : [];
    return [row.label, ...vals.map((v) => row.fmt(v)), ...ratios];
  });
  const simulated = latest.some((r) => (r.run_meta as Record<string, unknown>).simulated === true);
  const widths = header.map((_, i) => Math.max(...[header, ...lines].map((l) => (l[i] ?? '').length)));
  const fmtLine = (l: string[]) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [fmtLine(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmtLine)];
  if (simulated) out.unshift('SIMULATED: these figures come from the kvbench engine simulator, not a GPU.');
  return out.join('\n');
}
