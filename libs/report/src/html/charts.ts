import seedrandom from 'seedrandom';
import { percentile, type Sample } from '@kvbench/common';
import { contextLabel, displayLabel } from '../format.js';
import { escapeHtml as esc } from './escape.js';
import { autoScale, bandScale, linearScale } from './scale.js';
import { circle, frame, legend, plot, scaleTicks, svgOpen, xAxis, yAxis } from './svg.js';

/** One system's data as the charts need it. */
export interface ChartSystem {
  key: string;
  color: string;
  /** Successful requests with both timings. */
  samples: (Sample & { ttft_s: number; latency_s: number })[];
  failed: number;
}

const ms = (s: number) => s * 1000;
const msFmt = (v: number) => (v >= 100 ? v.toFixed(0) : Number(v.toPrecision(2)).toString());

function figure(id: string, title: string, caption: string, body: string): string {
  return `<figure class="chart" data-chart="${esc(id)}"><h3>${esc(title)}</h3>${body}<figcaption>${esc(caption)}</figcaption></figure>`;
}

const systemLegend = (systems: ChartSystem[]) => legend(systems.map((s) => ({ color: s.color, label: displayLabel(s.key) })));

/**
 * TTFT of every request at one context size, per phase and system: box from
 * p25 to p75 with the median, whiskers p5–p95, every request as a jittered dot.
 */
export function ttftDistributionChart(ctx: number, systems: ChartSystem[]): string {
  const phases = (['cold', 'reuse'] as const).filter((ph) => systems.some((s) => s.samples.some((x) => x.context_tokens === ctx && x.phase === ph)));
  const f = frame(560, 300);
  const p = plot(f);
  const all = systems.flatMap((s) => s.samples.filter((x) => x.context_tokens === ctx).map((x) => ms(x.ttft_s)));
  const y = autoScale(all, p.y0, p.y1, msFmt);
  const groups = bandScale(phases.length, p.x0, p.x1, 0.15);
  const rand = seedrandom(`jitter-${ctx}`);
  const parts = [svgOpen(f, `TTFT distribution at ${contextLabel(ctx)} tokens`), yAxis(f, y, `TTFT (ms${y.log ? ', log scale' : ''})`)];
  phases.forEach((phase, gi) => {
    const sub = bandScale(systems.length, groups.center(gi) - groups.width / 2, groups.center(gi) + groups.width / 2, 0.3);
    systems.forEach((sys, si) => {
      const vals = sys.samples.filter((x) => x.context_tokens === ctx && x.phase === phase);
      if (vals.length === 0) return;
      const v = vals.map((x) => ms(x.ttft_s));
      const cx = sub.center(si);
      const w = sub.width;
      const q = (pct: number) => y(percentile(v, pct)!);
      parts.push(`<line x1="${cx}" y1="${q(5)}" x2="${cx}" y2="${q(95)}" stroke="${sys.color}" class="whisker"/>`);
      parts.push(`<rect class="box" x="${cx - w / 2}" y="${q(75)}" width="${w}" height="${Math.max(q(25) - q(75), 1)}" fill="${sys.color}" fill-opacity="0.12" stroke="${sys.color}"/>`);
      parts.push(`<line x1="${cx - w / 2}" y1="${q(50)}" x2="${cx + w / 2}" y2="${q(50)}" stroke="${sys.color}" stroke-width="3" class="median"/>`);
      for (const x of vals) {
        const jx = cx + (rand() - 0.5) * w * 0.8;
        parts.push(circle(jx, y(ms(x.ttft_s)), 2.5, sys.color, { title: `${displayLabel(sys.key)} ${x.request_id}: TTFT ${msFmt(ms(x.ttft_s))} ms` }));
      }
    });
  });
  parts.push(xAxis(f, phases.map((ph, i) => ({ x: groups.center(i), label: ph })), 'phase (cold = first use of a prompt, reuse = exact repeat)'));
  parts.push('</svg>');
  return figure(
    `ttft-dist-${ctx}`,
    `TTFT at ${contextLabel(ctx)} tokens`,
    'Each dot is one request. Box: 25th–75th percentile with the median as a thick line; whiskers: 5th–95th percentile.',
    systemLegend(systems) + parts.join(''),
  );
}

/** Median TTFT against context size, one line per system and phase (context on a log2 axis). */
export function ttftVsContextChart(contexts: number[], systems: ChartSystem[]): string {
  const f = frame(560, 320);
  const p = plot(f);
  const logs = contexts.map((c) => Math.log2(c));
  const lo = Math.min(...logs);
  const hi = Math.max(...logs);
  const pad = (p.x1 - p.x0) * 0.06;
  const x = (c: number) => (hi === lo ? (p.x0 + p.x1) / 2 : p.x0 + pad + ((Math.log2(c) - lo) / (hi - lo)) * (p.x1 - p.x0 - 2 * pad));
  const series: { sys: ChartSystem; phase: 'cold' | 'reuse'; points: { c: number; v: number; n: number }[] }[] = [];
  for (const sys of systems) {
    for (const phase of ['cold', 'reuse'] as const) {
      const points = contexts.flatMap((c) => {
        const v = sys.samples.filter((s) => s.context_tokens === c && s.phase === phase).map((s) => ms(s.ttft_s));
        return v.length ? [{ c, v: percentile(v, 50)!, n: v.length }] : [];
      });
      if (points.length) series.push({ sys, phase, points });
    }
  }
  const y = autoScale(series.flatMap((s) => s.points.map((pt) => pt.v)), p.y0, p.y1, msFmt);
  const parts = [svgOpen(f, 'Median TTFT against context size'), yAxis(f, y, `median TTFT (ms${y.log ? ', log scale' : ''})`)];
  for (const s of series) {
    const d = s.points.map((pt, i) => `${i ? 'L' : 'M'}${x(pt.c).toFixed(1)} ${y(pt.v).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${s.sys.color}" stroke-width="2" ${s.phase === 'cold' ? 'stroke-dasharray="6 4"' : ''}/>`);
    for (const pt of s.points) {
      parts.push(
        circle(x(pt.c), y(pt.v), 4, s.sys.color, {
          hollow: s.phase === 'cold',
          title: `${displayLabel(s.sys.key)} ${s.phase} at ${contextLabel(pt.c)} tokens: median TTFT ${msFmt(pt.v)} ms (n=${pt.n})`,
        }),
      );
    }
  }
  parts.push(xAxis(f, contexts.map((c) => ({ x: x(c), label: contextLabel(c) })), 'context size (tokens, log scale)'), '</svg>');
  const items = systems.flatMap((s) => [
    { color: s.color, label: `${displayLabel(s.key)} reuse`, shape: 'line' as const },
    { color: s.color, label: `${displayLabel(s.key)} cold`, shape: 'dashed' as const },
  ]);
  return figure('ttft-vs-context', 'Median TTFT against context size', 'Solid lines and filled dots: reuse requests; dashed lines and hollow dots: cold requests.', legend(items) + parts.join(''));
}

export interface BarItem {
  key: string;
  color: string;
  value: number | null;
  /** Shown instead of a bar when value is null. */
  missing?: string;
}

/** One bar per system; a system whose engine did not report the figure gets the reason instead of a bar. */
export function barChart(id: string, title: string, yLabel: string, items: BarItem[], format: (v: number) => string, caption: string, max?: number): string {
  const f = frame(360, 260);
  const p = plot(f);
  const values = items.flatMap((i) => (i.value === null ? [] : [i.value]));
  const y = linearScale(0, max ?? (Math.max(...values, 0) * 1.1 || 1), p.y0, p.y1, format);
  const band = bandScale(items.length, p.x0, p.x1, 0.4);
  const parts = [svgOpen(f, title), yAxis(f, y, yLabel)];
  items.forEach((it, i) => {
    const cx = band.center(i);
    if (it.value === null) {
      parts.push(`<text x="${cx}" y="${(p.y0 + p.y1) / 2}" text-anchor="middle" class="missing">not reported</text>`);
      if (it.missing) parts.push(`<text x="${cx}" y="${(p.y0 + p.y1) / 2 + 14}" text-anchor="middle" class="missing small">${esc(it.missing.slice(0, 40))}</text>`);
      return;
    }
    const top = y(it.value);
    parts.push(
      `<rect class="mark bar" x="${cx - band.width / 2}" y="${top}" width="${band.width}" height="${Math.max(p.y0 - top, 0.5)}" fill="${it.color}"><title>${esc(`${displayLabel(it.key)}: ${format(it.value)}`)}</title></rect>`,
      `<text x="${cx}" y="${top - 4}" text-anchor="middle" class="value">${esc(format(it.value))}</text>`,
    );
  });
  parts.push(xAxis(f, items.map((it, i) => ({ x: band.center(i), label: displayLabel(it.key) })), 'system'), '</svg>');
  return figure(id, title, caption, parts.join(''));
}

/** Offloaded (GPU → host) and onboarded (host → GPU) blocks side by side per system. */
export function blocksChart(items: { key: string; color: string; offloaded: number | null; onboarded: number | null }[]): string {
  const f = frame(360, 260);
  const p = plot(f);
  const values = items.flatMap((i) => [i.offloaded, i.onboarded].filter((v): v is number => v !== null));
  const y = linearScale(0, Math.max(...values, 0) * 1.1 || 1, p.y0, p.y1, (v) => v.toFixed(0));
  const band = bandScale(items.length, p.x0, p.x1, 0.3);
  const parts = [svgOpen(f, 'KV blocks moved between GPU and host'), yAxis(f, y, 'blocks')];
  items.forEach((it, i) => {
    const w = band.width / 2;
    ([['offloaded', it.offloaded, 1], ['onboarded', it.onboarded, 0.45]] as const).forEach(([what, v, opacity], k) => {
      const x0 = band.center(i) - w + k * w;
      if (v === null) {
        parts.push(`<text x="${x0 + w / 2}" y="${p.y0 - 6}" text-anchor="middle" class="missing small">n/a</text>`);
        return;
      }
      const top = y(v);
      parts.push(
        `<rect class="mark bar" x="${x0 + 1}" y="${top}" width="${w - 2}" height="${Math.max(p.y0 - top, 0.5)}" fill="${it.color}" fill-opacity="${opacity}" stroke="${it.color}"><title>${esc(`${displayLabel(it.key)} ${what}: ${v} blocks`)}</title></rect>`,
        `<text x="${x0 + w / 2}" y="${top - 4}" text-anchor="middle" class="value">${v.toFixed(0)}</text>`,
      );
    });
  });
  parts.push(xAxis(f, items.map((it, i) => ({ x: band.center(i), label: displayLabel(it.key) })), 'system'), '</svg>');
  const lg = legend([
    { color: '#555', label: 'offloaded (GPU → host), solid' },
    { color: '#bbb', label: 'onboarded (host → GPU), light' },
  ]);
  return figure('blocks', 'KV blocks offloaded and onboarded', 'Whole-run engine statistics; n/a = not reported by the engine.', lg + parts.join(''));
}

/** TTFT of each request against when it was scheduled; the same axes for every system so they compare by eye. */
export function timelineCharts(systems: ChartSystem[]): string {
  const f = frame(560, 240);
  const p = plot(f);
  const all = systems.flatMap((s) => s.samples);
  let tmax = 0;
  for (const s of all) tmax = Math.max(tmax, s.scheduled_at_s);
  const x = linearScale(0, tmax || 1, p.x0, p.x1);
  const y = autoScale(all.map((s) => ms(s.ttft_s)), p.y0, p.y1, msFmt);
  return systems
    .map((sys, i) => {
      const parts = [svgOpen(f, `${displayLabel(sys.key)} sample timeline`), yAxis(f, y, `TTFT (ms${y.log ? ', log' : ''})`)];
      for (const s of sys.samples) {
        parts.push(
          circle(x(s.scheduled_at_s), y(ms(s.ttft_s)), 2.5, sys.color, {
            hollow: s.phase === 'cold',
            title: `${s.request_id} (${s.phase}, ${contextLabel(s.context_tokens)}): scheduled ${s.scheduled_at_s.toFixed(2)} s, TTFT ${msFmt(ms(s.ttft_s))} ms`,
          }),
        );
      }
      parts.push(xAxis(f, scaleTicks(x), 'scheduled at (s since run start)'), '</svg>');
      const lg = legend([
        { color: sys.color, label: `${displayLabel(sys.key)} reuse`, shape: 'filled' },
        { color: sys.color, label: `${displayLabel(sys.key)} cold`, shape: 'hollow' },
      ]);
      const failed = sys.failed ? ` ${sys.failed} failed requests are not shown.` : '';
      return figure(`timeline-${i}`, `${displayLabel(sys.key)}: TTFT over the run`, `One dot per request, at the time it was scheduled.${failed}`, lg + parts.join(''));
    })
    .join('');
}
