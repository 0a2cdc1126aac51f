/** Minimal scales for hand-written SVG charts. */
export interface Scale {
  (v: number): number;
  ticks: number[];
  format: (v: number) => string;
}

const num = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(3)).toString());

/** Linear scale with "nice" ticks (1, 2, 5 × 10^k steps); the domain is widened to whole ticks. */
export function linearScale(min: number, max: number, r0: number, r1: number, format = num): Scale {
  if (!(max > min)) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    [min, max] = [min - pad, max + pad];
  }
  const raw = (max - min) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let t = lo; t <= hi + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  const f = ((v: number) => r0 + ((v - lo) / (hi - lo)) * (r1 - r0)) as Scale;
  f.ticks = ticks;
  f.format = format;
  return f;
}

/** Log10 scale, ticks at 1-2-5 steps of each decade that falls inside the domain. */
export function logScale(min: number, max: number, r0: number, r1: number, format = num): Scale {
  const lo = Math.log10(min) - 0.05;
  const hi = Math.log10(max) + 0.05;
  const f = ((v: number) => r0 + ((Math.log10(Math.max(v, 1e-12)) - lo) / (hi - lo)) * (r1 - r0)) as Scale;
  const ticks: number[] = [];
  for (let d = Math.floor(lo); d <= Math.ceil(hi); d++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** d;
      if (Math.log10(t) >= lo && Math.log10(t) <= hi) ticks.push(Number(t.toPrecision(12)));
    }
  }
  f.ticks = ticks;
  f.format = format;
  return f;
}

/** Linear when values sit within a 30× range, log when they span more (TTFT from 1K to 128K contexts does). */
export function autoScale(values: number[], r0: number, r1: number, format = num, zeroBased = true): Scale & { log: boolean } {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  // Loops, not Math.min(...v): a run can hold more samples than a call takes arguments.
  let min = Infinity;
  let max = -Infinity;
  for (const v of pos) min = Math.min(min, v);
  for (const v of values) if (Number.isFinite(v)) max = Math.max(max, v);
  if (min === Infinity) min = 0;
  if (max === -Infinity) max = 1;
  if (pos.length > 1 && max / min > 30) return Object.assign(logScale(min, max, r0, r1, format), { log: true });
  return Object.assign(linearScale(zeroBased ? Math.min(0, min) : min, max, r0, r1, format), { log: false });
}

/** Positions for categories: evenly spaced bands with padding. */
export function bandScale(count: number, r0: number, r1: number, padding = 0.2): { center: (i: number) => number; width: number } {
  const step = (r1 - r0) / Math.max(count, 1);
  return { center: (i) => r0 + step * (i + 0.5), width: step * (1 - padding) };
}
