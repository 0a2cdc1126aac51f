import type { ResultsDocument, RunResult } from '@kvbench/common';
import { contextLabel, displayLabel, fmtFactor, fmtMs, fmtNum, fmtPct, rowLabel } from '../format.js';
import { runIdOf, runMeta, systemLabelOf } from '../meta.js';
import { isMeasured } from '../pairing.js';
import type { Comparison, ComparedSystem, MetricRatio } from '../types.js';
import { barChart, blocksChart, timelineCharts, ttftDistributionChart, ttftVsContextChart, type ChartSystem } from './charts.js';
import { breakdownCharts, hitRateChart } from './breakdown-charts.js';
import { multiturnCharts, traceCharts } from './scenario-charts.js';
import { escapeHtml as esc } from './escape.js';
import { sloText } from '../goodput.js';
import { PART_NAMES, SPLIT_PARTS, type SplitPart } from '../breakdown.js';
import { STYLE } from './style.js';
import { telemetrySection } from './telemetry-charts.js';
import { PALETTE } from './svg.js';

export interface HtmlReportOptions {
  title?: string;
  /** Shown in the header; pass it in so the function stays pure. */
  generatedAt?: string;
}

/**
 * The comparison as ONE self-contained HTML page: inline CSS and SVG, no
 * script, no external resource, so it works offline and data can only ever
 * appear as escaped text.
 */
export function renderHtmlReport(input: ResultsDocument | readonly RunResult[], comparison: Comparison, opts: HtmlReportOptions = {}): string {
  const runs = findRuns(input, comparison.systems);
  const charted: ChartSystem[] = comparison.systems.map((sys, i) => {
    const samples = runs[i]?.samples ?? [];
    const measured = samples.filter(isMeasured);
    return { key: sys.key, color: PALETTE[i % PALETTE.length]!, samples: measured, failed: samples.length - measured.length };
  });
  const contexts = [...new Set(comparison.rows.flatMap((r) => (r.context_tokens === null ? [] : [r.context_tokens])))].sort((a, b) => a - b);
  const all = comparison.rows.find((r) => r.phase === 'all');
  const simulated = comparison.systems.filter((s) => s.simulated);
  const title = opts.title ?? `kvbench: ${comparison.systems.map((s) => displayLabel(s.key)).join(' vs ')}`;
  const workloads = [...new Set(comparison.systems.map((s) => s.workload_id ?? '?'))];

  const body: string[] = [];
  if (simulated.length) {
    body.push(
      `<div class="banner" id="simulated-banner">SIMULATED: ${esc(simulated.map((s) => displayLabel(s.key)).join(', '))} ran on the kvbench engine simulator. These numbers model hardware; they were not measured on it.</div>`,
    );
  }
  body.push('<main>', `<h1>${esc(title)}</h1>`);
  body.push(
    `<p class="sub">Workload ${esc(workloads.join(', '))} · baseline ${esc(displayLabel(comparison.baseline))} · ${comparison.method.resamples} bootstrap resamples, seed ${esc(comparison.method.seed)}${opts.generatedAt ? ` · generated ${esc(opts.generatedAt)}` : ''}</p>`,
  );
  body.push('<h2>Verdicts</h2>', verdictList(comparison));
  body.push('<h2>TTFT distributions</h2><div class="grid">', ...contexts.map((c) => ttftDistributionChart(c, charted)), '</div>');
  body.push('<h2>TTFT against context size</h2><div class="grid">', contexts.length ? ttftVsContextChart(contexts, charted) : '', '</div>');
  body.push('<h2 id="breakdown">Where TTFT went</h2>', breakdownCharts(comparison.breakdown ?? [], comparison.systems), partRatioTable(comparison));
  if (comparison.goodput) body.push('<h2 id="goodput">Goodput</h2>', goodputSection(comparison, charted));
  const colors = comparison.systems.map((s, i) => ({ key: s.key, color: charted[i]!.color }));
  const sc = comparison.scenarios;
  if (sc?.multiturn) body.push('<h2 id="multiturn">Multi-turn: by turn</h2><div class="grid">', multiturnCharts(sc.multiturn, colors, comparison.method.confidence), '</div>', turnRatioTable(comparison));
  if (sc?.trace) body.push('<h2 id="trace">Trace replay</h2><div class="grid">', traceCharts(sc.trace, colors), '</div>');
  if (comparison.hit_rate?.length) body.push('<h2 id="hit-rate">Cache hit rate: predicted and measured</h2><div class="grid">', hitRateChart(comparison.hit_rate), '</div>');
  if (all) {
    const item = (sys: ComparedSystem, i: number, field: keyof typeof all.systems[string], reasonKey: string) => ({
      key: sys.key,
      color: charted[i]!.color,
      value: all.systems[sys.key]![field] as number | null,
      missing: sys.null_reasons[reasonKey],
    });
    body.push(
      '<h2>Cache and offload (whole run)</h2><div class="grid">',
      barChart('cache-hit-rate', 'Cache hit rate', 'cache hit rate (%)', comparison.systems.map((s, i) => item(s, i, 'cache_hit_rate', 'cache_hit_rate')), (v) => `${(v * 100).toFixed(0)}%`, 'Share of KV blocks found in cache, from the engine\u2019s statistics over the run.', 1),
      barChart('offload-bandwidth', 'Observed offload bandwidth', 'bandwidth (GB/s)', comparison.systems.map((s, i) => item(s, i, 'offload_bandwidth_gbps', 'observed_offload_bandwidth_gbps')), (v) => Number(v.toPrecision(3)).toString(), 'GPU → host offload bandwidth from the engine\u2019s statistics over the run (log_metrics.observed_offload_bandwidth_gbps; its source is listed in each run\u2019s log_metrics).'),
      blocksChart(comparison.systems.map((s, i) => ({ key: s.key, color: charted[i]!.color, offloaded: all.systems[s.key]!.offloaded_blocks, onboarded: all.systems[s.key]!.onboarded_blocks }))),
      '</div>',
    );
  }
  body.push('<h2>Sample timelines</h2><div class="grid">', timelineCharts(charted), '</div>');
  body.push(telemetrySection(comparison.systems.map((sys, i) => ({ key: sys.key, run: runs[i] }))));
  body.push('<h2>Comparison table</h2>', comparisonTable(comparison));
  if (all) body.push('<h3 style="margin-top:12px">Whole run</h3>', runLevelTable(comparison));
  if (comparison.notes.length) body.push('<h2>Notes</h2><ul>', ...comparison.notes.map((n) => `<li class="note">${esc(n)}</li>`), '</ul>');
  body.push('<h2 id="runs">Runs</h2>', settingsTable(comparison), '<div class="meta">', ...comparison.systems.map((s, i) => rawJson(s, runs[i])), '</div>');
  body.push(`<h2>Method</h2><ul>${Object.entries(comparison.method).map(([k, v]) => `<li><b>${esc(k)}</b>: ${esc(v)}</li>`).join('')}</ul>`);
  body.push('</main>');
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head><body>${body.join('\n')}</body></html>\n`;
}

/** The runs behind the comparison, in its system order (matched by run id, else by label). */
function findRuns(input: ResultsDocument | readonly RunResult[], systems: ComparedSystem[]): (RunResult | undefined)[] {
  const pool: RunResult[] = Array.isArray(input) ? [...(input as readonly RunResult[])] : Object.values((input as ResultsDocument).runs).flat();
  return systems.map(
    (s) =>
      (s.run_id !== null ? pool.find((r) => runIdOf(r) === s.run_id) : undefined) ?? pool.findLast((r) => systemLabelOf(r) === s.label),
  );
}

function verdictList(c: Comparison): string {
  const items: string[] = [];
  for (const row of c.rows) {
    for (const vs of row.vs_baseline) {
      const ms = vs.metrics.filter((m) => m.metric === 'ttft_p50' || (row.phase === 'all' && m.kind === 'paired' && m.metric.endsWith('p50')));
      if (!ms.length) continue;
      const lines = ms.map((m) => `<li class="${m.meaningful ? 'sig' : ''}">${esc(m.verdict)}</li>`).join('');
      const ev = vs.evidence ? `<li class="evidence${vs.evidence.link_exercised === false ? ' flag' : ''}">evidence: ${esc(vs.evidence.text)}</li>` : '';
      items.push(lines + ev);
    }
  }
  if (!items.length) return '<p>Only one system: nothing to compare.</p>';
  return `<p class="sub">A difference is called when its ${Math.round(c.method.confidence * 1000) / 10}% interval excludes 1 and it is at least ${Math.round(c.method.min_effect * 1000) / 10}% (the threshold, --min-effect / min_effect).</p><ul class="verdicts">${items.join('')}</ul>`;
}

function ratioTd(m: MetricRatio | undefined): string {
  if (!m || m.ratio === null) return '<td>-</td>';
  const ci = m.ci_low !== null && m.ci_high !== null ? ` [${fmtFactor(m.ci_low, 2)}–${fmtFactor(m.ci_high, 2)}]` : '';
  const cls = m.meaningful ? `sig ${m.ratio < 1 ? 'better' : 'worse'}` : '';
  return `<td class="${cls}" title="${esc(m.verdict)}">${fmtFactor(m.ratio, 2)}${ci}</td>`;
}

function comparisonTable(c: Comparison): string {
  const level = `${Math.round(c.method.confidence * 1000) / 10}%`;
  // Two header rows keep the table narrow: units and the interval level are said once per group.
  const head =
    `<tr><th class="l" rowspan="2">context</th><th class="l" rowspan="2">phase</th><th class="l" rowspan="2">system</th><th rowspan="2">n</th><th rowspan="2">failed</th>` +
    `<th colspan="3">TTFT (ms)</th><th colspan="3">latency (ms)</th><th colspan="4">ratio to baseline [${level} CI]</th></tr>` +
    `<tr><th>p50</th><th>p95</th><th>p99</th><th>p50</th><th>p95</th><th>p99</th><th>TTFT p50</th><th>TTFT p95</th><th>latency p50</th><th>latency p95</th></tr>`;
  const rows: string[] = [];
  for (const row of c.rows) {
    c.systems.forEach((sys, i) => {
      const s = row.systems[sys.key]!;
      const vs = row.vs_baseline.find((v) => v.system === sys.key);
      const m = (id: string) => vs?.metrics.find((x) => x.metric === id);
      const ratios = vs ? ['ttft_p50', 'ttft_p95', 'latency_p50', 'latency_p95'].map((id) => ratioTd(m(id))).join('') : '<td class="l" colspan="4">baseline</td>';
      rows.push(
        `<tr class="${i === 0 ? 'row-start' : ''}"><td class="l">${i === 0 ? esc(rowLabel(row)) : ''}</td><td class="l">${i === 0 ? esc(row.phase) : ''}</td><td class="l">${esc(displayLabel(sys.key))}</td><td>${s.n}</td><td>${s.n_failed}</td>` +
          [s.ttft_s.p50, s.ttft_s.p95, s.ttft_s.p99, s.latency_s.p50, s.latency_s.p95, s.latency_s.p99].map((v) => `<td>${fmtMs(v)}</td>`).join('') +
          `${ratios}</tr>`,
      );
    });
  }
  return `<div class="scroll"><table class="comparison">${head}${rows.join('')}</table></div><p class="sub">Ratio = system / baseline (below 1: system is faster). [low–high] = ${level} paired bootstrap interval over requests present on both runs; bold when it excludes 1.</p>`;
}

function runLevelTable(c: Comparison): string {
  const all = c.rows.find((r) => r.phase === 'all')!;
  const rows = c.systems.map((sys) => {
    const s = all.systems[sys.key]!;
    const cell = (v: number | null, text: string, reasonKey: string) =>
      v === null ? `<td title="${esc(sys.null_reasons[reasonKey] ?? '')}">not reported${sys.null_reasons[reasonKey] ? `: ${esc(sys.null_reasons[reasonKey])}` : ''}</td>` : `<td>${esc(text)}</td>`;
    return `<tr><td class="l">${esc(displayLabel(sys.key))}</td><td>${fmtNum(s.throughput_req_per_s)}</td>${cell(s.cache_hit_rate, fmtPct(s.cache_hit_rate), 'cache_hit_rate')}${cell(s.offloaded_blocks, fmtNum(s.offloaded_blocks), 'offloaded_blocks')}${cell(s.onboarded_blocks, fmtNum(s.onboarded_blocks), 'onboarded_blocks')}${cell(s.offload_bandwidth_gbps, fmtNum(s.offload_bandwidth_gbps), 'observed_offload_bandwidth_gbps')}</tr>`;
  });
  return `<table class="run-level"><tr><th class="l">system</th><th>throughput (req/s)</th><th>cache hit rate</th><th>offloaded blocks</th><th>onboarded blocks</th><th>offload bandwidth (GB/s)</th></tr>${rows.join('')}</table>`;
}

/** Run metadata as a comparison: a column per run, a row per setting, differing rows marked. */
function settingsTable(c: Comparison): string {
  const rows = c.settings ?? [];
  if (!rows.length) return '<p>No run metadata.</p>';
  const head = `<tr><th class="l setting">setting</th>${c.systems.map((s) => `<th class="l">${esc(displayLabel(s.key))}${s.simulated ? ' <span class="note">(simulated)</span>' : ''}</th>`).join('')}</tr>`;
  const body = rows
    .map((r) => {
      const cls = r.differs && !r.identity ? 'differs' : r.identity ? 'identity' : '';
      const cells = r.values.map((v) => (v === null ? '<td class="l absent">(absent)</td>' : `<td class="l">${esc(v)}</td>`)).join('');
      return `<tr class="${cls}"><th class="l setting">${esc(r.setting)}${r.differs && !r.identity ? ' <span class="mark-differs" title="differs between runs">≠</span>' : ''}</th>${cells}</tr>`;
    })
    .join('');
  const differing = rows.filter((r) => r.differs && !r.identity).length;
  const cols = `<colgroup><col style="width:24%">${c.systems.map(() => `<col style="width:${(76 / Math.max(c.systems.length, 1)).toFixed(2)}%">`).join('')}</colgroup>`;
  return `<p class="sub">${c.systems.length > 1 ? `${differing} of ${rows.length} settings differ between the runs (highlighted, ≠); ids and times differ by nature (grey).` : `${rows.length} settings.`} The raw JSON of each run is below.</p><table class="settings">${cols}${head}${body}</table>`;
}

/** The whole run_meta and log_metrics, one click away, wrapped inside its box. */
function rawJson(sys: ComparedSystem, run: RunResult | undefined): string {
  const meta = run ? runMeta(run) : {};
  const lm = run?.log_metrics ? `<details><summary>log_metrics</summary><pre>${esc(JSON.stringify(run.log_metrics, null, 2))}</pre></details>` : '';
  return `<section><h3>${esc(displayLabel(sys.key))}${sys.simulated ? ' <span class="note">(simulated)</span>' : ''}</h3><details class="raw"><summary>raw run_meta JSON</summary><pre>${esc(JSON.stringify(meta, null, 2))}</pre></details>${lm}</section>`;
}

function goodputSection(c: Comparison, charted: ChartSystem[]): string {
  const g = c.goodput!;
  const items = c.systems.map((s, i) => ({ key: s.key, color: charted[i]!.color, value: g.systems[s.key]?.goodput_req_per_s ?? null, missing: 'no measured window' }));
  const rows = c.systems
    .map((s) => {
      const x = g.systems[s.key]!;
      return `<tr><td class="l">${esc(displayLabel(s.key))}</td><td>${x.met} / ${x.requests}</td><td>${fmtPct(x.share)}</td><td>${fmtNum(x.goodput_req_per_s)}</td></tr>`;
    })
    .join('');
  const verdicts = g.vs_baseline.map((v) => `<li>${esc(v.verdict)}</li>`).join('');
  return (
    `<div class="grid">${barChart('goodput', `Goodput at ${sloText(g.slo)}`, 'goodput (req/s meeting the SLO)', items, (v) => Number(v.toPrecision(3)).toString(), 'Requests that met every objective, per second of the run’s measured window (first release to last end).')}` +
    `<div><table class="run-level"><tr><th class="l">system</th><th>met / requests</th><th>share</th><th>goodput (req/s)</th></tr>${rows}</table><ul class="verdicts">${verdicts}</ul></div></div>`
  );
}

/** The paired TTFT p50 ratio per turn, with its interval. */
function turnRatioTable(c: Comparison): string {
  const m = c.scenarios.multiturn!;
  if (!m.vs_baseline.length) return '';
  const level = `${Math.round(c.method.confidence * 1000) / 10}%`;
  const head = `<tr><th class="l">system / ${esc(displayLabel(c.baseline))}</th>${m.turns.map((t) => `<th>turn ${t}</th>`).join('')}</tr>`;
  const rows = m.vs_baseline
    .map((v) => `<tr><td class="l">${esc(displayLabel(v.system))}</td>${v.points.map((p) => `<td title="${p.paired} paired requests">${p.ratio === null ? '-' : `${fmtFactor(p.ratio, 2)}${p.ci_low !== null ? ` [${fmtFactor(p.ci_low, 2)}–${fmtFactor(p.ci_high, 2)}]` : ''}`}</td>`).join('')}</tr>`)
    .join('');
  return `<div class="scroll"><table class="turn-ratios">${head}${rows}</table></div><p class="sub">TTFT p50 ratio to the baseline per turn [${level} paired bootstrap interval].</p>`;
}

/** Each part's p50, system / baseline, paired, per context and phase: which part a difference comes from. */
function partRatioTable(c: Comparison): string {
  const rows = (c.breakdown ?? []).flatMap((r) => r.vs_baseline.map((v) => ({ r, v })));
  const parts = SPLIT_PARTS.filter((p) => rows.some(({ v }) => v.parts.some((x) => x.part === p && x.ratio !== null)));
  if (!rows.length || !parts.length) return '';
  const level = `${Math.round(c.method.confidence * 1000) / 10}%`;
  const head = `<tr><th class="l">context</th><th class="l">phase</th><th class="l">system</th>${parts.map((p) => `<th title="${esc(PART_NAMES[p])}">${esc(PART_SHORT[p])}</th>`).join('')}</tr>`;
  const body = rows
    .map(({ r, v }) => {
      const cells = parts.map((p) => {
        const x = v.parts.find((y) => y.part === p);
        if (!x || x.ratio === null) return '<td>-</td>';
        const sig = x.ci_low !== null && x.ci_high !== null && (x.ci_high < 1 || x.ci_low > 1);
        return `<td class="${sig ? `sig ${x.ratio < 1 ? 'better' : 'worse'}` : ''}" title="${x.paired} paired requests">${fmtFactor(x.ratio, 2)}${x.ci_low !== null ? ` [${fmtFactor(x.ci_low, 2)}–${fmtFactor(x.ci_high, 2)}]` : ''}</td>`;
      });
      return `<tr><td class="l">${esc(rowLabel(r))}</td><td class="l">${esc(r.phase)}</td><td class="l">${esc(displayLabel(v.system))} / ${esc(displayLabel(v.baseline))}</td>${cells.join('')}</tr>`;
    })
    .join('');
  return `<div class="scroll"><table class="part-ratios">${head}${body}</table></div><p class="sub">Each part’s p50, system / baseline, over the requests where both runs know it [${level} paired bootstrap interval]; bold when it excludes 1.</p>`;
}

const PART_SHORT: Record<SplitPart, string> = {
  client_wait_s: 'client wait',
  to_engine_s: 'to engine',
  engine_queue_s: 'engine queue',
  onboard_s: 'KV onboard',
  prefill_s: 'prefill',
  batch_other_s: 'batch rest',
  first_token_s: 'first token',
  to_client_s: 'to client',
};
