/** Charts along a scenario's own axis: multi-turn (TTFT and hit rate by turn) and trace (TTFT CDF, TTFT over time). */
import { displayLabel } from '../format.js';
import type { MultiturnReport, TraceReport } from '../scenarios.js';
import { escapeHtml as esc } from './escape.js';
import { autoScale, linearScale } from './scale.js';
import { circle, frame, legend, plot, scaleTicks, svgOpen, xAxis, yAxis } from './svg.js';

export interface SystemColor {
  key: string;
  color: string;
}

const ms = (s: number) => s * 1000;
const msFmt = (v: number) => (v >= 100 ? v.toFixed(0) : Number(v.toPrecision(2)).toString());
const r1 = (v: number) => Math.round(v * 10) / 10;

function figure(id: string, title: string, caption: string, body: string): string {
  return `<figure class="chart" data-chart="${esc(id)}"><h3>${esc(title)}</h3>${body}<figcaption>${esc(caption)}</figcaption></figure>`;
}

const path = (pts: [number, number][]) => pts.map(([x, y], i) => `${i ? 'L' : 'M'}${r1(x)} ${r1(y)}`).join(' ');

/** TTFT p50 (solid) and p90 (dashed) by turn, each with its 95% interval as a shaded band; then the hit rate by turn. */
export function multiturnCharts(m: MultiturnReport, systems: SystemColor[], confidence: number): string {
  const f = frame(560, 300);
  const p = plot(f);
  const lo = m.turns[0]!;
  const hi = m.turns.at(-1)!;
  const x = linearScale(lo, hi === lo ? lo + 1 : hi, p.x0, p.x1, (v) => (Number.isInteger(v) ? String(v) : ''));
  const all: number[] = [];
  for (const pts of Object.values(m.systems))
    for (const t of pts) for (const b of [t.ttft_p50_s, t.ttft_p90_s]) for (const v of [b.value, b.low, b.high]) if (v !== null) all.push(ms(v));
  const y = autoScale(all, p.y0, p.y1, msFmt);
  const level = `${Math.round(confidence * 1000) / 10}%`;
  const parts = [svgOpen(f, 'TTFT against turn index'), yAxis(f, y, `TTFT (ms${y.log ? ', log scale' : ''})`)];
  for (const sys of systems) {
    const pts = m.systems[sys.key] ?? [];
    for (const [which, dashed] of [['ttft_p50_s', false], ['ttft_p90_s', true]] as const) {
      const withBand = pts.filter((t) => t[which].low !== null && t[which].high !== null);
      if (withBand.length > 1) {
        const upper = withBand.map((t) => [x(t.turn), y(ms(t[which].high!))] as [number, number]);
        const lower = withBand.map((t) => [x(t.turn), y(ms(t[which].low!))] as [number, number]).reverse();
        parts.push(`<path class="band" d="${path([...upper, ...lower])} Z" fill="${sys.color}" fill-opacity="${dashed ? 0.08 : 0.16}" stroke="none"/>`);
      }
      const line = pts.filter((t) => t[which].value !== null).map((t) => [x(t.turn), y(ms(t[which].value!))] as [number, number]);
      if (line.length > 1) parts.push(`<path d="${path(line)}" fill="none" stroke="${sys.color}" stroke-width="2" ${dashed ? 'stroke-dasharray="6 4"' : ''}/>`);
      for (const t of pts) {
        const b = t[which];
        if (b.value === null) continue;
        const ci = b.low !== null && b.high !== null ? `, ${level} interval ${msFmt(ms(b.low))}–${msFmt(ms(b.high))} ms` : '';
        parts.push(circle(x(t.turn), y(ms(b.value)), 3.5, sys.color, { hollow: dashed, title: `${displayLabel(sys.key)} turn ${t.turn}: TTFT ${which === 'ttft_p50_s' ? 'p50' : 'p90'} ${msFmt(ms(b.value))} ms${ci} (n=${t.n})` }));
      }
    }
  }
  parts.push(xAxis(f, m.turns.map((t) => ({ x: x(t), label: String(t) })), 'turn index (1 = first turn of a session)'), '</svg>');
  const items = systems.flatMap((s) => [
    { color: s.color, label: `${displayLabel(s.key)} p50`, shape: 'line' as const },
    { color: s.color, label: `${displayLabel(s.key)} p90`, shape: 'dashed' as const },
  ]);
  const ttft = figure('multiturn-ttft', 'TTFT against turn index', `Solid: p50, dashed: p90; shaded: the ${level} bootstrap interval of each. Later turns carry the whole history, so their prefix is reusable.`, legend(items) + parts.join(''));

  const g = frame(560, 260);
  const q = plot(g);
  const yh = linearScale(0, 100, q.y0, q.y1, (v) => `${v}%`);
  const hparts = [svgOpen(g, 'Cache hit rate against turn index'), yAxis(g, yh, 'prompt tokens from cache (%)')];
  const xh = linearScale(lo, hi === lo ? lo + 1 : hi, q.x0, q.x1);
  for (const sys of systems) {
    const pts = (m.systems[sys.key] ?? []).filter((t) => t.hit_rate !== null);
    if (pts.length > 1) hparts.push(`<path d="${path(pts.map((t) => [xh(t.turn), yh(t.hit_rate! * 100)]))}" fill="none" stroke="${sys.color}" stroke-width="2"/>`);
    for (const t of pts) hparts.push(circle(xh(t.turn), yh(t.hit_rate! * 100), 3.5, sys.color, { title: `${displayLabel(sys.key)} turn ${t.turn}: ${(t.hit_rate! * 100).toFixed(1)}% of prompt tokens from cache` }));
  }
  hparts.push(xAxis(g, m.turns.map((t) => ({ x: xh(t), label: String(t) })), 'turn index'), '</svg>');
  const hit = figure('multiturn-hit-rate', 'Cache hit rate against turn index', 'Σ cached prompt tokens / Σ prompt tokens of each turn\u2019s requests, as the engine reported them per request.', legend(systems.map((s) => ({ color: s.color, label: displayLabel(s.key), shape: 'line' as const }))) + hparts.join(''));
  return ttft + hit;
}

/** The TTFT distribution as a CDF per system, and every request's TTFT at its release time. */
export function traceCharts(t: TraceReport, systems: SystemColor[]): string {
  const f = frame(560, 300);
  const p = plot(f);
  const all = Object.values(t.systems).flatMap((s) => s.cdf.map(([v]) => ms(v)));
  const x = autoScale(all, p.x0, p.x1, msFmt);
  const y = linearScale(0, 1, p.y0, p.y1, (v) => `${Math.round(v * 100)}%`);
  const parts = [svgOpen(f, 'TTFT CDF'), yAxis(f, y, 'requests with TTFT at most x (%)')];
  for (const sys of systems) {
    const cdf = t.systems[sys.key]?.cdf ?? [];
    if (cdf.length === 0) continue;
    // A step function: each point holds until the next value.
    const pts: [number, number][] = [];
    cdf.forEach(([v, fr], i) => {
      if (i > 0) pts.push([x(ms(v)), y(cdf[i - 1]![1])]);
      pts.push([x(ms(v)), y(fr)]);
    });
    parts.push(`<path class="mark cdf" d="${path(pts)}" fill="none" stroke="${sys.color}" stroke-width="2"><title>${esc(`${displayLabel(sys.key)}: ${t.systems[sys.key]!.n} requests`)}</title></path>`);
  }
  parts.push(xAxis(f, scaleTicks(x), `TTFT (ms${x.log ? ', log scale' : ''})`), '</svg>');
  const cdfFig = figure('trace-ttft-cdf', 'TTFT distribution (CDF)', 'Share of the trace\u2019s requests whose TTFT is at most the value on the x axis.', legend(systems.map((s) => ({ color: s.color, label: displayLabel(s.key), shape: 'line' as const }))) + parts.join(''));

  const g = frame(560, 260);
  const q = plot(g);
  let tmax = 0;
  const vals: number[] = [];
  for (const s of Object.values(t.systems)) for (const [at, v] of s.over_time) (tmax = Math.max(tmax, at)), vals.push(ms(v));
  const xt = linearScale(0, tmax || 1, q.x0, q.x1);
  const yt = autoScale(vals, q.y0, q.y1, msFmt);
  const tparts = [svgOpen(g, 'TTFT over the trace'), yAxis(g, yt, `TTFT (ms${yt.log ? ', log' : ''})`)];
  for (const sys of systems) {
    for (const [at, v] of t.systems[sys.key]?.over_time ?? []) tparts.push(circle(xt(at), yt(ms(v)), 2, sys.color, { title: `${displayLabel(sys.key)}: released ${at.toFixed(2)} s, TTFT ${msFmt(ms(v))} ms` }));
  }
  tparts.push(xAxis(g, scaleTicks(xt), 'released at (s since run start)'), '</svg>');
  const timeFig = figure('trace-ttft-over-time', 'TTFT over the trace', 'One dot per request (at most 1500 per system, evenly thinned), at its release time.', legend(systems.map((s) => ({ color: s.color, label: displayLabel(s.key), shape: 'filled' as const }))) + tparts.join(''));
  return cdfFig + timeFig;
}
