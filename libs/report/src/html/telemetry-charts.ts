/**
 * Link telemetry in the report (issue 23): per run, link throughput over time (offload = bytes the
 * GPU sent, onboard = bytes it received, summed over GPUs per period) drawn above the request
 * timeline (each request's onboard and prefill spans where the engine tells them, else its time to
 * first token), on one time axis; and a table of the link's bytes beside the engine's.
 */
import type { RunResult, Sample, TelemetryPoint, TelemetrySummary } from '@kvbench/common';
import { displayLabel } from '../format.js';
import { escapeHtml as esc } from './escape.js';
import { linearScale } from './scale.js';
import { legend, scaleTicks, svgOpen, xAxis, yAxis, type Frame } from './svg.js';

export interface TelemetrySystem {
  key: string;
  run: RunResult | undefined;
}

type WithTelemetry = RunResult & { telemetry?: TelemetrySummary | null; telemetry_series?: TelemetryPoint[] };

const OFFLOAD = '#D55E00';
const ONBOARD = '#0072B2';
const PREFILL = '#999999';
/** Request rows drawn at most; a longer run shows every n-th request (said in the caption). */
const MAX_ROWS = 160;
const r1 = (v: number) => Math.round(v * 10) / 10;

/** Per period (over GPUs): link GB/s each way; C2C where the run's offload path is C2C. */
function throughput(series: readonly TelemetryPoint[], link: 'pcie' | 'c2c'): { t0: number; t1: number; off: number | null; on: number | null }[] {
  const byT = new Map<number, { dt: number; off: number | null; on: number | null }>();
  for (const p of series) {
    const tx = link === 'c2c' ? p.c2c_tx_bytes : p.pcie_tx_bytes;
    const rx = link === 'c2c' ? p.c2c_rx_bytes : p.pcie_rx_bytes;
    const b = byT.get(p.t_s) ?? { dt: p.dt_s, off: null, on: null };
    if (tx !== null) b.off = (b.off ?? 0) + tx;
    if (rx !== null) b.on = (b.on ?? 0) + rx;
    byT.set(p.t_s, b);
  }
  return [...byT.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, b]) => ({ t0: t - b.dt, t1: t, off: b.off === null || b.dt <= 0 ? null : b.off / b.dt / 1e9, on: b.on === null || b.dt <= 0 ? null : b.on / b.dt / 1e9 }));
}

/** Step path of one direction's GB/s. */
function steps(rows: ReturnType<typeof throughput>, k: 'off' | 'on', x: (v: number) => number, y: (v: number) => number): string {
  const d: string[] = [];
  let open = false;
  for (const r of rows) {
    const v = r[k];
    if (v === null) {
      open = false;
      continue;
    }
    d.push(`${open ? 'L' : 'M'}${r1(x(r.t0))} ${r1(y(v))}`, `L${r1(x(r.t1))} ${r1(y(v))}`);
    open = true;
  }
  return d.join(' ');
}

/** A request's spans: onboard then prefill inside its first_token part where known, else its TTFT. */
function spans(s: Sample): { kind: 'onboard' | 'prefill' | 'ttft'; t0: number; t1: number }[] {
  if (s.ttft_s === null) return [];
  const b = s.breakdown;
  if (b && b.client_wait_s !== null && b.to_engine_s !== null && b.engine_queue_s !== null && (b.onboard_s != null || b.prefill_s != null)) {
    const start = s.scheduled_at_s + b.client_wait_s + b.to_engine_s + b.engine_queue_s;
    const on = b.onboard_s ?? 0;
    const out: { kind: 'onboard' | 'prefill' | 'ttft'; t0: number; t1: number }[] = [];
    if (on > 0) out.push({ kind: 'onboard', t0: start, t1: start + on });
    if (b.prefill_s != null) out.push({ kind: 'prefill', t0: start + on, t1: start + on + b.prefill_s });
    return out;
  }
  return [{ kind: 'ttft', t0: s.scheduled_at_s, t1: s.scheduled_at_s + s.ttft_s }];
}

function linkChart(i: number, key: string, run: WithTelemetry, t: TelemetrySummary, series: readonly TelemetryPoint[]): string {
  const link = t.link_level.link ?? 'pcie';
  const rows = throughput(series, link);
  const samples = [...run.samples].filter((s) => s.ttft_s !== null).sort((a, b) => a.scheduled_at_s - b.scheduled_at_s);
  const every = Math.max(1, Math.ceil(samples.length / MAX_ROWS));
  const shown = samples.filter((_, j) => j % every === 0);
  const rowH = shown.length > 80 ? 2 : 4;
  const topH = 200;
  const f: Frame = { width: 900, height: topH + 24 + shown.length * (rowH + 1) + 48, left: 64, right: 16, top: 14, bottom: 48 };
  const x0 = f.left;
  const x1 = f.width - f.right;
  const yTop0 = topH;
  const yTop1 = f.top;
  let tmax = 0;
  for (const r of rows) tmax = Math.max(tmax, r.t1);
  for (const s of samples) tmax = Math.max(tmax, s.scheduled_at_s + (s.latency_s ?? s.ttft_s ?? 0));
  const x = linearScale(0, tmax || 1, x0, x1);
  let vmax = 0;
  for (const r of rows) vmax = Math.max(vmax, r.off ?? 0, r.on ?? 0);
  const y = linearScale(0, vmax || 1, yTop0, yTop1);
  const topFrame: Frame = { ...f, height: topH + f.bottom, bottom: f.bottom };
  const parts = [svgOpen(f, `${displayLabel(key)} link throughput and request timeline`), yAxis({ ...topFrame, height: yTop0 + f.bottom }, y, `${link.toUpperCase()} GB/s${t.simulated ? ' (simulated)' : ''}`)];
  parts.push(`<path d="${steps(rows, 'off', x, y)}" fill="none" stroke="${OFFLOAD}" stroke-width="1.5" data-series="offload"/>`);
  parts.push(`<path d="${steps(rows, 'on', x, y)}" fill="none" stroke="${ONBOARD}" stroke-width="1.5" data-series="onboard"/>`);
  const rowsTop = topH + 24;
  shown.forEach((s, j) => {
    const yy = rowsTop + j * (rowH + 1);
    for (const sp of spans(s)) {
      const color = sp.kind === 'onboard' ? ONBOARD : sp.kind === 'prefill' ? PREFILL : '#CC79A7';
      const w = Math.max(0.8, x(sp.t1) - x(sp.t0));
      parts.push(`<rect x="${r1(x(sp.t0))}" y="${yy}" width="${r1(w)}" height="${rowH}" fill="${color}" data-span="${sp.kind}"><title>${esc(`${s.request_id} ${sp.kind}: ${sp.t0.toFixed(3)}–${sp.t1.toFixed(3)} s`)}</title></rect>`);
    }
  });
  parts.push(xAxis(f, scaleTicks(x), 's since run start'), '</svg>');
  const lg = legend([
    { color: OFFLOAD, label: 'offload (GPU → host)', shape: 'line' },
    { color: ONBOARD, label: 'onboard (host → GPU)', shape: 'line' },
    { color: ONBOARD, label: 'request onboard span' },
    { color: PREFILL, label: 'request prefill span' },
    { color: '#CC79A7', label: 'request TTFT (no engine breakdown)' },
  ]);
  const caption =
    `${t.simulated ? 'SIMULATED: the simulator\u2019s modelled link bytes, not a hardware reading. ' : ''}` +
    `Link throughput per ${t.period_ms_requested} ms period (${esc(t.source)}: ${t.source_detail}), link-level: everything that crossed the link, not only KV blocks. ` +
    `Below, one row per request${every > 1 ? ` (every ${every}th of ${samples.length})` : ''}, same time axis.`;
  return `<figure class="chart" data-chart="link-${i}"><h3>${esc(displayLabel(key))}: link throughput under the request timeline</h3>${lg}${parts.join('')}<figcaption>${esc(caption)}</figcaption></figure>`;
}

const gb = (v: number | null) => (v === null ? null : (v / 1e9).toFixed(3));
const cell = (v: string | null, why: string | undefined) => (v === null ? `<td class="null" title="${esc(why ?? '')}">n/a</td>` : `<td>${esc(v)}</td>`);

/** Achieved bandwidth: the payload's where it was estimated (the counted one beside it on hover), else the counted. */
function gbpsCell(payload: number | null | undefined, counted: number | null, why: string | undefined): string {
  if (payload == null) return cell(counted === null ? null : counted.toFixed(2), why);
  return `<td data-basis="payload" title="${esc(`payload; counted bytes (headers included): ${counted === null ? 'n/a' : counted.toFixed(2)} GB/s`)}">${payload.toFixed(2)}</td>`;
}

function bytesTable(systems: { key: string; t: TelemetrySummary }[]): string {
  const head = `<tr><th>system</th><th>source</th><th>link</th><th>link offload GB (counted)</th><th>payload GB (estimated)</th><th>engine offloaded GB</th><th>ratio</th><th>link onboard GB (counted)</th><th>payload GB (estimated)</th><th>engine onboarded GB</th><th>ratio</th><th>offload GB/s (link)</th><th>onboard GB/s (link)</th><th>energy / request J</th><th>energy / token J</th><th>peak GPU memory GB</th></tr>`;
  const rows = systems.map(({ key, t }) => {
    const n = t.null_reasons;
    const ve = t.versus_engine;
    const ratio = (r: number | null, why: string | undefined, dir: string) => {
      if (r === null) return cell(null, why);
      const off = Math.abs(r - 1) > ve.tolerance;
      const on = ve.basis === 'payload' ? 'the payload estimate' : 'the counted bytes';
      return `<td class="${off ? 'flag' : ''}" data-ratio="${dir}" data-basis="${ve.basis ?? 'counted'}" title="${esc(off ? ve.disagreements.join(' ') : `${on} within 1 ± ${ve.tolerance} of the engine's`)}">${r.toFixed(3)}${off ? ' ⚠' : ''}</td>`;
    };
    return (
      `<tr data-system="${esc(key)}"><td>${esc(displayLabel(key))}${t.simulated ? ' <b>(simulated)</b>' : ''}</td><td>${esc(t.source)}</td><td>${esc(t.link_level.link ?? 'n/a')}</td>` +
      cell(gb(t.link_level.offload_bytes), n['link_level']) +
      cell(gb(t.link_level.payload?.offload_bytes ?? null), n['link_level.payload']) +
      cell(gb(ve.engine_offloaded_bytes), n['versus_engine.offload_ratio']) +
      ratio(ve.offload_ratio, n['versus_engine.offload_ratio'], 'offload') +
      cell(gb(t.link_level.onboard_bytes), n['link_level']) +
      cell(gb(t.link_level.payload?.onboard_bytes ?? null), n['link_level.payload']) +
      cell(gb(ve.engine_onboarded_bytes), n['versus_engine.onboard_ratio']) +
      ratio(ve.onboard_ratio, n['versus_engine.onboard_ratio'], 'onboard') +
      gbpsCell(t.link_level.payload?.offload_gbps, t.link_level.offload_gbps, n['link_level.offload_gbps'] ?? n['link_level']) +
      gbpsCell(t.link_level.payload?.onboard_gbps, t.link_level.onboard_gbps, n['link_level.onboard_gbps'] ?? n['link_level']) +
      cell(t.energy_per_request_j === null ? null : t.energy_per_request_j.toPrecision(4), n['energy_per_request_j']) +
      cell(t.energy_per_output_token_j === null ? null : t.energy_per_output_token_j.toPrecision(4), n['energy_per_output_token_j']) +
      cell(gb(t.peak_mem_used_bytes), n['peak_mem_used_bytes']) +
      '</tr>'
    );
  });
  const notes = systems.flatMap(({ key, t }) => t.versus_engine.disagreements.map((d) => `<li class="note">${esc(displayLabel(key))}: ${esc(d)}</li>`));
  return `<table class="telemetry" id="link-vs-engine">${head}${rows.join('')}</table>${notes.length ? `<ul>${notes.join('')}</ul>` : ''}<p class="sub">Link bytes count everything that crossed the link in that direction, headers included: PCIe counters count whole TLPs, so a copy of N bytes counts about 1.08 N host→GPU and 1.09 N GPU→host at a 256-byte Max_Payload_Size. The payload estimate takes the headers off with each GPU's Max_Payload_Size read from its config space; the ratios use it where it exists. n/a cells say why on hover.</p>`;
}

/** The report's link section; empty when no run has telemetry. */
export function telemetrySection(systems: TelemetrySystem[]): string {
  const withT = systems.flatMap((s) => {
    const run = s.run as WithTelemetry | undefined;
    return run?.telemetry ? [{ key: s.key, run, t: run.telemetry }] : [];
  });
  if (!withT.length) return '';
  const charts = withT.map((s, i) =>
    s.run.telemetry_series?.length
      ? linkChart(i, s.key, s.run, s.t, s.run.telemetry_series)
      : `<p class="note">${esc(displayLabel(s.key))}: no telemetry series with this document (the summary is below).</p>`,
  );
  return `<h2 id="link">Link telemetry</h2>${charts.join('')}${bytesTable(withT.map(({ key, t }) => ({ key, t })))}`;
}
