/** Number and label formatting shared by the terminal table, verdicts and the HTML report. */

/** Display names for the two labels kvbench was built around; any other label shows as given. */
const KNOWN_LABELS: Record<string, string> = { pcie: 'PCIe', c2c: 'C2C' };

export function displayLabel(label: string): string {
  return KNOWN_LABELS[label] ?? label;
}

/** 65536 → "64K" (powers of 1024 are how contexts are specified); other sizes stay exact. */
export function contextLabel(tokens: number | null): string {
  if (tokens === null) return 'all';
  if (tokens >= 1024 && tokens % 1024 === 0) return `${tokens / 1024}K`;
  return String(tokens);
}

/** A row's group: its length bucket (trace runs) or its exact context size. */
export function rowLabel(row: { context_tokens: number | null; bucket?: { low: number; high: number } | null }): string {
  if (row.bucket) return `${contextLabel(row.bucket.low)}–${contextLabel(row.bucket.high)}`;
  return contextLabel(row.context_tokens);
}

/** Seconds shown as milliseconds with precision that fits the magnitude. */
export function fmtMs(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '-';
  const ms = seconds * 1000;
  const abs = Math.abs(ms);
  return ms.toFixed(abs < 10 ? 2 : abs < 100 ? 1 : 0);
}

/** Plain number: integers as integers, others with 3 significant figures at least. */
export function fmtNum(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  if (abs >= 100) return v.toFixed(1);
  return v.toPrecision(digits);
}

export function fmtPct(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '-';
  return `${(fraction * 100).toFixed(1)}%`;
}

/** Decimals for a factor such as 3.1× or 1.04×: finer near 1 where small differences matter. */
export function factorDecimals(factor: number): number {
  return factor < 2 ? 2 : factor < 10 ? 1 : 0;
}

export function fmtFactor(v: number | null | undefined, decimals?: number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  return v.toFixed(decimals ?? factorDecimals(v));
}
