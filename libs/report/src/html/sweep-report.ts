/** The sweep report page: capacity sweep and offload-vs-recompute charts (hand-written SVG, no script). */
import { contextLabel, displayLabel, fmtFactor, fmtMs, fmtPct } from '../format.js';
import type { CapacitySweepReport, OffloadSweepReport, ReplayStats, SweepReport } from '../sweeps.js';
import { escapeHtml as esc } from './escape.js';
import { autoScale, linearScale, logScale } from './scale.js';
import { circle, frame, legend, plot, svgOpen, systemColor, xAxis, yAxis } from './svg.js';
import { STYLE } from './style.js';

const ms = (s: number) => s * 1000;
const msFmt = (v: number) => (v >= 100 ? v.toFixed(0) : Number(v.toPrecision(2)).toString());
const r1 = (v: number) => Math.round(v * 10) / 10;
const path = (pts: [number, number][]) => pts.map(([x, y], i) => `${i ? 'L' : 'M'}${r1(x)} ${r1(y)}`).join(' ');

function figure(id: string, title: string, caption: string, body: string): string {
  return `<figure class="chart" data-chart="${esc(id)}"><h3>${esc(title)}</h3>${body}<figcaption>${esc(caption)}</figcaption></figure>`;
}

// One colour per system across every report (systemColor); the list is kept for the call sites' shape.
const colorOf = (_systems: string[]) => (s: string) => systemColor(s);

/** Log x axis over positive values, ticks labelled as context sizes. */
function logX(values: number[], x0: number, x1: number) {
  const pos = values.filter((v) => v > 0);
  const lo = Math.min(...pos);
  const hi = Math.max(...pos);
  return logScale(lo, hi === lo ? lo * 2 : hi, x0, x1, (v) => contextLabel(Math.round(v)));
}

function capacityCharts(c: CapacitySweepReport): string {
  const color = colorOf(c.systems);
  const xs = c.points.map((p) => p.working_set_tokens).filter((v): v is number => v !== null);
  for (const t of Object.values(c.tiers)) for (const v of [t.G, t.GH]) if (v !== null) xs.push(v);
  const f = frame(760, 320, 64, 56);
  const p = plot(f);
  const x = logX(xs, p.x0, p.x1);
  const tierLines = (y0: number, y1: number) =>
    c.systems.flatMap((s, i) => {
      const t = c.tiers[s]!;
      return ([['G', t.G], ['G+H', t.GH]] as const).flatMap(([name, v]) =>
        v === null ? [] : [`<line class="tier" x1="${r1(x(v))}" y1="${y0}" x2="${r1(x(v))}" y2="${y1}" stroke="${color(s)}" stroke-dasharray="${name === 'G' ? '2 3' : '8 3'}" stroke-width="1.5"><title>${esc(`${displayLabel(s)} ${name} = ${v} tokens`)}</title></line>`, `<text x="${r1(x(v)) + 3}" y="${y1 + 10 + i * 11 + (name === 'G' ? 0 : 22)}" class="small" fill="${color(s)}">${esc(`${displayLabel(s)} ${name}`)}</text>`],
      );
    }).join('');
  const vals: number[] = [];
  for (const pt of c.points) for (const s of Object.values(pt.systems)) for (const v of [s.ttft_p50_s, s.ttft_p90_s]) if (v !== null) vals.push(ms(v));
  const y = autoScale(vals, p.y0, p.y1, msFmt);
  const parts = [svgOpen(f, 'TTFT against working set'), yAxis(f, y, `TTFT of the measured rounds (ms${y.log ? ', log' : ''})`), tierLines(p.y0, p.y1)];
  for (const s of c.systems) {
    for (const [key, dashed] of [['ttft_p50_s', false], ['ttft_p90_s', true]] as const) {
      const pts = c.points.filter((pt) => pt.working_set_tokens !== null && pt.systems[s]?.[key] != null).map((pt) => [x(pt.working_set_tokens!), y(ms(pt.systems[s]![key]!))] as [number, number]);
      if (pts.length > 1) parts.push(`<path d="${path(pts)}" fill="none" stroke="${color(s)}" stroke-width="2" ${dashed ? 'stroke-dasharray="6 4"' : ''}/>`);
      for (const pt of c.points) {
        const v = pt.systems[s]?.[key];
        if (pt.working_set_tokens === null || v == null) continue;
        parts.push(circle(x(pt.working_set_tokens), y(ms(v)), 3.5, color(s), { hollow: dashed, title: `${displayLabel(s)} at ${pt.point} (${pt.working_set_tokens} tokens${pt.working_set_gib !== null ? `, ${pt.working_set_gib.toFixed(1)} GiB` : ''}): TTFT ${dashed ? 'p90' : 'p50'} ${msFmt(ms(v))} ms` }));
      }
    }
  }
  const ticks = c.points.filter((pt) => pt.working_set_tokens !== null).map((pt) => ({ x: x(pt.working_set_tokens!), label: `${contextLabel(pt.working_set_tokens!)}${pt.working_set_gib !== null ? ` (${pt.working_set_gib.toFixed(pt.working_set_gib < 10 ? 1 : 0)} GiB)` : ''}` }));
  parts.push(xAxis(f, ticks, 'working set (tokens, GiB of KV for the model; log scale)'), '</svg>');
  const items = c.systems.flatMap((s) => [
    { color: color(s), label: `${displayLabel(s)} p50`, shape: 'line' as const },
    { color: color(s), label: `${displayLabel(s)} p90`, shape: 'dashed' as const },
  ]);
  const ttft = figure('capacity-ttft', 'TTFT against working set', 'Short dashes: a system\u2019s GPU pool G; long dashes: G + host cache H. Below G the working set fits on the GPU; between G and G + H it is reloaded from host; beyond, recomputed.', legend(items) + parts.join(''));

  const g = frame(760, 280, 64, 56);
  const q = plot(g);
  const yh = linearScale(0, 100, q.y0, q.y1, (v) => `${v}%`);
  const hp = [svgOpen(g, 'Hit rate against working set'), yAxis(g, yh, 'cache hit rate (% of blocks)'), tierLines(q.y0, q.y1)];
  for (const s of c.systems) {
    const pts = c.points.filter((pt) => pt.working_set_tokens !== null && pt.systems[s]?.hit_rate != null);
    if (pts.length > 1) hp.push(`<path d="${path(pts.map((pt) => [x(pt.working_set_tokens!), yh(pt.systems[s]!.hit_rate! * 100)]))}" fill="none" stroke="${color(s)}" stroke-width="2"/>`);
    for (const pt of pts) hp.push(circle(x(pt.working_set_tokens!), yh(pt.systems[s]!.hit_rate! * 100), 3.5, color(s), { title: `${displayLabel(s)} at ${pt.point}: hit rate ${fmtPct(pt.systems[s]!.hit_rate)}` }));
  }
  hp.push(xAxis(g, ticks, 'working set (tokens, log scale)'), '</svg>');
  const hit = figure('capacity-hit-rate', 'Measured hit rate against working set', 'The engine\u2019s cache hit rate over each point\u2019s run (blocks reused from GPU or host / blocks looked up).', legend(c.systems.map((s) => ({ color: color(s), label: displayLabel(s), shape: 'line' as const }))) + hp.join(''));
  return ttft + hit;
}

function offloadCharts(o: OffloadSweepReport): string {
  const color = colorOf(o.systems);
  const f = frame(600, 320, 64, 48);
  const p = plot(f);
  const x = logX(o.points.map((pt) => pt.prompt_tokens), p.x0, p.x1);
  const vals: number[] = [];
  for (const pt of o.points) for (const s of Object.values(pt.systems)) for (const v of [s.offload_replays?.ttft_median_s, s.recompute_replays?.ttft_median_s, s.link_bound_s]) if (v != null && v > 0) vals.push(ms(v));
  const y = vals.length > 1 && Math.max(...vals) / Math.min(...vals) > 30 ? Object.assign(logScale(Math.min(...vals), Math.max(...vals), p.y0, p.y1, msFmt), { log: true }) : autoScale(vals, p.y0, p.y1, msFmt);
  const parts = [svgOpen(f, 'TTFT by prompt length: onboard against recompute'), yAxis(f, y, `replayed prompt's TTFT (ms${y.log ? ', log scale' : ''})`)];
  for (const s of o.systems) {
    const series = [
      { get: (pt: (typeof o.points)[number]) => (pt.systems[s]?.offload_replays?.ttft_median_s ?? null), dash: '', hollow: false, what: 'onboarded from host' },
      { get: (pt: (typeof o.points)[number]) => (pt.systems[s]?.recompute_replays?.ttft_median_s ?? null), dash: 'stroke-dasharray="6 4"', hollow: true, what: 'recomputed' },
      { get: (pt: (typeof o.points)[number]) => pt.systems[s]?.link_bound_s ?? null, dash: 'stroke-dasharray="1 3"', hollow: null, what: 'link bound (the replay\'s KV over the link, with the offloads its reload forces)' },
    ];
    for (const se of series) {
      const pts = o.points.filter((pt) => se.get(pt) != null && se.get(pt)! > 0);
      if (pts.length > 1) parts.push(`<path d="${path(pts.map((pt) => [x(pt.prompt_tokens), y(ms(se.get(pt)!))]))}" fill="none" stroke="${color(s)}" stroke-width="${se.hollow === null ? 2.5 : 2}" ${se.dash}/>`);
      if (se.hollow === null) continue;
      for (const pt of pts) parts.push(circle(x(pt.prompt_tokens), y(ms(se.get(pt)!)), 3.5, color(s), { hollow: se.hollow, title: `${displayLabel(s)} ${contextLabel(pt.prompt_tokens)} tokens, ${se.what}: ${msFmt(ms(se.get(pt)!))} ms` }));
    }
  }
  parts.push(xAxis(f, o.points.map((pt) => ({ x: x(pt.prompt_tokens), label: contextLabel(pt.prompt_tokens) })), 'prompt length (tokens, log scale)'), '</svg>');
  const items = o.systems.flatMap((s) => [
    { color: color(s), label: `${displayLabel(s)} onboard`, shape: 'line' as const },
    { color: color(s), label: `${displayLabel(s)} recompute`, shape: 'dashed' as const },
    { color: color(s), label: `${displayLabel(s)} link bound`, shape: 'dotted' as const },
  ]);
  const ttft = figure('offload-ttft', 'TTFT by prompt length: onboard against recompute', 'Solid: KV onboarded from host; dashed: recomputed (no host cache); dotted: the link\u2019s bound, the prompt\u2019s KV bytes over the host→GPU bandwidth measured in the run. Each point is the median of the replays the engine\u2019s counters confirm.', legend(items) + parts.join(''));

  const g = frame(600, 260, 64, 48);
  const q = plot(g);
  const sp: number[] = [];
  for (const pt of o.points) for (const s of Object.values(pt.systems)) if (s.speedup !== null) sp.push(s.speedup);
  const ys = linearScale(0, Math.max(1, ...sp) * 1.1, q.y0, q.y1, (v) => `${Number(v.toPrecision(3))}×`);
  const xs = logX(o.points.map((pt) => pt.prompt_tokens), q.x0, q.x1);
  const hp = [svgOpen(g, 'Speedup of onboarding over recompute'), yAxis(g, ys, 'speedup (recompute / onboard)')];
  hp.push(`<line x1="${q.x0}" y1="${r1(ys(1))}" x2="${q.x1}" y2="${r1(ys(1))}" stroke="#888" stroke-dasharray="4 3"/>`);
  for (const s of o.systems) {
    const pts = o.points.filter((pt) => pt.systems[s]?.speedup != null);
    if (pts.length > 1) hp.push(`<path d="${path(pts.map((pt) => [xs(pt.prompt_tokens), ys(pt.systems[s]!.speedup!)]))}" fill="none" stroke="${color(s)}" stroke-width="2"/>`);
    for (const pt of pts) hp.push(circle(xs(pt.prompt_tokens), ys(pt.systems[s]!.speedup!), 3.5, color(s), { title: `${displayLabel(s)} ${contextLabel(pt.prompt_tokens)} tokens: ${fmtFactor(pt.systems[s]!.speedup!)}× faster onboarded` }));
  }
  hp.push(xAxis(g, o.points.map((pt) => ({ x: xs(pt.prompt_tokens), label: contextLabel(pt.prompt_tokens) })), 'prompt length (tokens, log scale)'), '</svg>');
  const speed = figure('offload-speedup', 'Speedup of onboarding over recompute', 'Above the grey line (1×) reloading the KV from host beats recomputing it.', legend(o.systems.map((s) => ({ color: color(s), label: displayLabel(s), shape: 'line' as const }))) + hp.join(''));
  return ttft + speed;
}

function offloadTable(o: OffloadSweepReport): string {
  const head = `<tr><th class="l">prompt</th>${o.systems.map((s) => `<th>${esc(displayLabel(s))} onboard ms</th><th>recompute ms</th><th>link bound ms</th><th>speedup</th>`).join('')}${o.systems.filter((s) => s !== o.baseline).map((s) => `<th>${esc(displayLabel(s))}/${esc(displayLabel(o.baseline))} onboard</th>`).join('')}</tr>`;
  const rows = o.points
    .map((pt) => {
      const cells = o.systems
        .map((s) => {
          const x = pt.systems[s];
          const side = (v: ReplayStats | undefined, flags: string[] = []) =>
            !v || v.n === 0
              ? '<td>-</td>'
              : v.valid === 0
                ? `<td class="note" title="${esc(v.invalid_reasons[0] ?? '')}">not counted (0/${v.n})</td>`
                : `<td class="${flags.length ? 'flag' : ''}" title="${esc([...flags, ...v.invalid_reasons].join('; '))}">${fmtMs(v.ttft_median_s)}${v.ci_low_s !== null ? ` [${fmtMs(v.ci_low_s)}–${fmtMs(v.ci_high_s)}]` : ''} (${v.valid}/${v.n})${flags.length ? ' !' : ''}</td>`;
          return x ? `${side(x.offload_replays, x.flags)}${side(x.recompute_replays)}<td title="${esc(x.null_reasons.bandwidth_gbps ?? x.bandwidth_source ?? '')}">${fmtMs(x.link_bound_s)}</td><td>${x.speedup === null ? '-' : `${fmtFactor(x.speedup)}×`}</td>` : '<td colspan="4">-</td>';
        })
        .join('');
      const ratios = pt.vs_baseline.map((v) => `<td>${v.ratio === null ? '-' : `${fmtFactor(v.ratio, 2)}${v.ci_low !== null ? ` [${fmtFactor(v.ci_low, 2)}–${fmtFactor(v.ci_high, 2)}]` : ''}`}</td>`).join('');
      return `<tr><td class="l">${esc(contextLabel(pt.prompt_tokens))}</td>${cells}${ratios}</tr>`;
    })
    .join('');
  return `<div class="scroll"><table class="offload">${head}${rows}</table></div>`;
}

function capacityTable(c: CapacitySweepReport): string {
  const others = c.systems.filter((s) => s !== c.baseline);
  const head = `<tr><th class="l">point</th><th>working set (tokens)</th>${c.systems.map((s) => `<th>${esc(displayLabel(s))} TTFT p50 ms</th><th>hit rate</th>`).join('')}${others.map((s) => `<th>${esc(displayLabel(s))} / ${esc(displayLabel(c.baseline))} TTFT p50 [95% CI]</th>`).join('')}</tr>`;
  const rows = c.points
    .map((pt) => {
      const sys = c.systems.map((s) => `<td>${fmtMs(pt.systems[s]?.ttft_p50_s)}</td><td>${fmtPct(pt.systems[s]?.hit_rate)}</td>`).join('');
      const vs = others.map((s) => {
        const v = pt.vs_baseline.find((x) => x.system === s);
        return `<td>${v?.ratio == null ? '-' : `${fmtFactor(v.ratio, 2)}${v.ci_low !== null ? ` [${fmtFactor(v.ci_low, 2)}–${fmtFactor(v.ci_high, 2)}]` : ''}`}</td>`;
      });
      return `<tr><td class="l">${esc(pt.point)}</td><td>${pt.working_set_tokens ?? '-'}</td>${sys}${vs.join('')}</tr>`;
    })
    .join('');
  return `<div class="scroll"><table class="capacity">${head}${rows}</table></div>`;
}

export function renderSweepReport(r: SweepReport, opts: { title?: string; generatedAt?: string; simulated?: boolean } = {}): string {
  const id = r.capacity?.sweep_id ?? r.offload?.sweep_id ?? '?';
  const title = opts.title ?? `kvbench sweep ${id}`;
  const body: string[] = [];
  // The runs' own provenance decides the banner; opts.simulated (a caller's view) can only add it.
  const notes = [...new Set([r.capacity?.provenance.note, r.offload?.provenance.note].filter((n): n is string => !!n))];
  if (notes.length) body.push(`<div class="banner" id="simulated-banner">${notes.map(esc).join('<br>')}</div>`);
  else if (opts.simulated) body.push('<div class="banner" id="simulated-banner">SIMULATED: these runs used the kvbench engine simulator. These numbers model hardware; they were not measured on it.</div>');
  body.push('<main>', `<h1>${esc(title)}</h1>`, `<p class="sub">Sweep ${esc(id)}${opts.generatedAt ? ` · generated ${esc(opts.generatedAt)}` : ''}</p>`);
  if (r.capacity) body.push('<h2 id="capacity">Capacity sweep</h2><div class="grid">', capacityCharts(r.capacity), '</div>', capacityTable(r.capacity));
  if (r.offload) body.push('<h2 id="offload">Offload against recompute</h2><div class="grid">', offloadCharts(r.offload), '</div>', offloadTable(r.offload));
  if (!r.capacity && !r.offload) body.push('<p>No capacity or offload sweep among these runs.</p>');
  body.push('</main>');
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head><body>${body.join('\n')}</body></html>\n`;
}
