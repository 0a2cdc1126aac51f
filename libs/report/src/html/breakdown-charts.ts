/** Charts for the TTFT breakdown and the predicted-vs-measured hit rate (hand-written SVG, like charts.ts). */
import type { SplitPart } from '../breakdown.js';
import { PART_NAMES } from '../breakdown.js';
import { contextLabel, displayLabel } from '../format.js';
import type { HitRatePrediction } from '../hit-rate.js';
import type { BreakdownRow } from '../types.js';
import { escapeHtml as esc } from './escape.js';
import { bandScale, linearScale } from './scale.js';
import { frame, legend, plot, svgOpen, xAxis, yAxis } from './svg.js';

/** Colours of the parts, in time order (ColorBrewer-like, distinct from the system palette's use). */
const PART_COLORS: Record<SplitPart, string> = {
  client_wait_s: '#9e9e9e',
  to_engine_s: '#c7b9a6',
  engine_queue_s: '#f0c75e',
  onboard_s: '#e15759',
  prefill_s: '#4e79a7',
  batch_other_s: '#a0cbe8',
  first_token_s: '#59a14f',
  to_client_s: '#b07aa1',
};

const msFmt = (v: number) => (v >= 100 ? v.toFixed(0) : Number(v.toPrecision(2)).toString());

function figure(id: string, title: string, caption: string, body: string): string {
  return `<figure class="chart" data-chart="${esc(id)}"><h3>${esc(title)}</h3>${body}<figcaption>${esc(caption)}</figcaption></figure>`;
}

/**
 * One chart per context size: for each phase a group of bars, one per system, each bar the TTFT p50
 * split into its parts (stacked in time order), with the p50 itself as a black tick.
 */
export function breakdownCharts(rows: readonly BreakdownRow[], systems: { key: string }[]): string {
  const contexts = [...new Set(rows.flatMap((r) => (r.context_tokens === null ? [] : [r.context_tokens])))].sort((a, b) => a - b);
  const used = new Set<SplitPart>();
  for (const r of rows) for (const s of Object.values(r.systems)) for (const p of s.median_split?.parts ?? []) used.add(p.part);
  if (used.size === 0) return '<p class="note">No request of these runs has a TTFT breakdown (runs recorded before kvbench measured one, or an engine without per-request timings).</p>';
  const partLegend = legend((Object.keys(PART_COLORS) as SplitPart[]).filter((p) => used.has(p)).map((p) => ({ color: PART_COLORS[p], label: PART_NAMES[p] })));
  const groups: { id: string; title: string; rows: BreakdownRow[] }[] = contexts.map((c) => ({ id: String(c), title: `${contextLabel(c)} tokens`, rows: rows.filter((r) => r.context_tokens === c) }));
  groups.push({ id: 'all', title: 'all requests', rows: rows.filter((r) => r.phase === 'all') });
  const charts = groups.map((g) => stackedChart(g.id, g.title, g.rows, systems));
  return partLegend + '<div class="grid">' + charts.join('') + '</div>';
}

function stackedChart(id: string, title: string, rows: BreakdownRow[], systems: { key: string }[]): string {
  const f = frame(Math.max(360, 120 + rows.length * systems.length * 64), 300, 64, 64);
  const p = plot(f);
  let max = 0;
  for (const r of rows)
    for (const s of Object.values(r.systems)) {
      const sum = (s.median_split?.parts ?? []).reduce((a, x) => a + Math.max(0, x.seconds), 0);
      max = Math.max(max, sum * 1000, (s.ttft_p50_s ?? 0) * 1000);
    }
  const y = linearScale(0, max * 1.08 || 1, p.y0, p.y1, msFmt);
  const outer = bandScale(rows.length, p.x0, p.x1, 0.12);
  const parts = [svgOpen(f, `TTFT p50 split into its parts, ${title}`), yAxis(f, y, 'time to first token (ms)')];
  const ticks: { x: number; label: string }[] = [];
  rows.forEach((row, gi) => {
    const inner = bandScale(systems.length, outer.center(gi) - outer.width / 2, outer.center(gi) + outer.width / 2, 0.25);
    systems.forEach((sys, si) => {
      const s = row.systems[sys.key];
      const cx = inner.center(si);
      const w = inner.width;
      parts.push(`<text x="${cx}" y="${p.y0 + 14}" text-anchor="middle" class="small">${esc(displayLabel(sys.key))}</text>`);
      if (!s?.median_split) {
        parts.push(`<text x="${cx}" y="${p.y0 - 6}" text-anchor="middle" class="missing small">n/a</text>`);
        return;
      }
      let acc = 0;
      for (const part of s.median_split.parts) {
        const v = Math.max(0, part.seconds) * 1000;
        if (v <= 0) continue;
        const top = y(acc + v);
        const bottom = y(acc);
        parts.push(
          `<rect class="mark part" data-part="${part.part}" x="${cx - w / 2}" y="${top}" width="${w}" height="${Math.max(bottom - top, 0.5)}" fill="${PART_COLORS[part.part]}"><title>${esc(`${displayLabel(sys.key)} ${row.phase}: ${PART_NAMES[part.part]} ${msFmt(v)} ms`)}</title></rect>`,
        );
        acc += v;
      }
      if (s.ttft_p50_s !== null) {
        const ty = y(s.ttft_p50_s * 1000);
        parts.push(`<line x1="${cx - w / 2 - 3}" y1="${ty}" x2="${cx + w / 2 + 3}" y2="${ty}" stroke="#000" stroke-width="2" class="p50"><title>${esc(`${displayLabel(sys.key)} ${row.phase}: TTFT p50 ${msFmt(s.ttft_p50_s * 1000)} ms`)}</title></line>`);
      }
      parts.push(`<text x="${cx}" y="${y(acc) - 4}" text-anchor="middle" class="value">${esc(msFmt(acc))}</text>`);
    });
    ticks.push({ x: outer.center(gi), label: row.phase });
  });
  for (const t of ticks) parts.push(`<text x="${t.x}" y="${p.y0 + 30}" text-anchor="middle" class="phase">${esc(t.label)}</text>`);
  parts.push(xAxis(f, [], 'phase (one bar per system under it)'), '</svg>');
  return figure(
    `ttft-breakdown-${id}`,
    `Where TTFT went: ${title}`,
    'Each bar: the requests around the median (TTFT between its 40th and 60th percentiles), their parts averaged and stacked in time order; the black tick is the TTFT p50. n/a: no request with every part known.',
    parts.join(''),
  );
}

/** Per system: hit rate an LRU would reach with the GPU pool, with GPU pool + host cache, with an infinite cache; and the engine's measured figure. */
export function hitRateChart(preds: readonly HitRatePrediction[]): string {
  const kinds = [
    { key: 'gpu_only', label: 'LRU, GPU pool only', color: '#a0cbe8' },
    { key: 'gpu_and_host', label: 'LRU, GPU pool + host cache', color: '#4e79a7' },
    { key: 'infinite', label: 'infinite cache (workload reuse)', color: '#d4d4d4' },
    { key: 'measured', label: 'measured by the engine', color: '#e15759' },
  ] as const;
  const f = frame(Math.max(360, 120 + preds.length * 180), 280);
  const p = plot(f);
  const y = linearScale(0, 100, p.y0, p.y1, (v) => `${v}%`);
  const outer = bandScale(preds.length, p.x0, p.x1, 0.2);
  const parts = [svgOpen(f, 'Predicted against measured cache hit rate'), yAxis(f, y, 'hit rate (% of blocks looked up)')];
  preds.forEach((h, gi) => {
    const inner = bandScale(kinds.length, outer.center(gi) - outer.width / 2, outer.center(gi) + outer.width / 2, 0.15);
    kinds.forEach((k, ki) => {
      const v = k.key === 'measured' ? h.measured : (h[k.key]?.hit_rate ?? null);
      const cx = inner.center(ki);
      if (v === null) {
        parts.push(`<text x="${cx}" y="${p.y0 - 6}" text-anchor="middle" class="missing small">${k.key === 'measured' ? 'n/a' : 'not modelled'}</text>`);
        return;
      }
      const top = y(v * 100);
      parts.push(
        `<rect class="mark bar" x="${cx - inner.width / 2}" y="${top}" width="${inner.width}" height="${Math.max(p.y0 - top, 0.5)}" fill="${k.color}"><title>${esc(`${displayLabel(h.system)}: ${k.label} ${(v * 100).toFixed(1)}%`)}</title></rect>`,
        `<text x="${cx}" y="${top - 3}" text-anchor="middle" class="value small">${(v * 100).toFixed(0)}</text>`,
      );
    });
  });
  parts.push(xAxis(f, preds.map((h, i) => ({ x: outer.center(i), label: `${displayLabel(h.system)}${h.disagrees ? ' ⚠ disagrees' : ''}` })), 'system'), '</svg>');
  const notes = preds.map((h) => `<li class="${h.disagrees ? 'flag' : ''}">${esc(displayLabel(h.system))}: ${esc(h.note)}</li>`).join('');
  return figure(
    'hit-rate-prediction',
    'Cache hit rate: predicted from the workload vs measured',
    'Predictions replay the workload\u2019s prompts, in release order, through a block-level LRU with the run\u2019s GPU pool and host cache (a trace: its own hash_ids block chains); not modelled: the predictor cannot say (the reason is listed), never 0%. A gap above 10 points is flagged.',
    legend(kinds.map((k) => ({ color: k.color, label: k.label }))) + parts.join('') + `<ul class="hit-notes">${notes}</ul>`,
  );
}
