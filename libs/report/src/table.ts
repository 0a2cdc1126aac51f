import { contextLabel, displayLabel, fmtFactor, fmtMs, fmtNum, fmtPct, rowLabel } from './format.js';
import type { SplitPart } from './breakdown.js';
import { sloText } from './goodput.js';
import type { Comparison, ComparisonRow, MetricRatio } from './types.js';

/** Columns padded to their widest cell; numbers right-aligned, text left-aligned. */
export function textTable(header: string[], rows: string[][], rightAligned: (col: number) => boolean = () => false): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** "0.32 [0.29–0.35]" for a paired ratio; "0.32 (run)" for a run-level one. */
export function ratioCell(m: MetricRatio | undefined): string {
  if (!m || m.ratio === null) return '-';
  if (m.ci_low === null || m.ci_high === null) return `${fmtFactor(m.ratio, 2)}${m.kind === 'run-level' ? '' : ' [-]'}`;
  const mark = m.meaningful ? '*' : '';
  return `${fmtFactor(m.ratio, 2)} [${fmtFactor(m.ci_low, 2)}–${fmtFactor(m.ci_high, 2)}]${mark}`;
}

/** The comparison as plain text for a terminal: timings per row, run-level figures, verdicts. */
export function renderComparisonTable(c: Comparison): string {
  const out: string[] = [];
  const level = `${Math.round(c.method.confidence * 1000) / 10}%`;
  const simulated = c.systems.some((s) => s.simulated);
  out.push(
    `Baseline: ${displayLabel(c.baseline)}.  Runs: ${c.systems.map((s) => `${displayLabel(s.key)}=${s.run_id ?? '?'}`).join(', ')}` +
      (simulated ? '  [SIMULATED: engine simulator, not real hardware]' : ''),
  );
  const header = ['context', 'phase', 'system', 'n', 'fail', 'TTFT p50 ms', 'p95', 'p99', 'latency p50 ms', 'p95', 'p99', `TTFT p50 ratio [${level} CI]`, `TTFT p95 ratio`, `latency p50 ratio`];
  const rows: string[][] = [];
  for (const row of c.rows) {
    c.systems.forEach((sys, i) => {
      const s = row.systems[sys.key]!;
      const vs = row.vs_baseline.find((v) => v.system === sys.key);
      const metric = (id: string) => vs?.metrics.find((m) => m.metric === id);
      rows.push([
        i === 0 ? rowLabel(row) : '',
        i === 0 ? row.phase : '',
        displayLabel(sys.key) + (sys.key === c.baseline ? ' (base)' : ''),
        String(s.n),
        String(s.n_failed),
        fmtMs(s.ttft_s.p50),
        fmtMs(s.ttft_s.p95),
        fmtMs(s.ttft_s.p99),
        fmtMs(s.latency_s.p50),
        fmtMs(s.latency_s.p95),
        fmtMs(s.latency_s.p99),
        vs ? ratioCell(metric('ttft_p50')) : '',
        vs ? ratioCell(metric('ttft_p95')) : '',
        vs ? ratioCell(metric('latency_p50')) : '',
      ]);
    });
  }
  out.push('', textTable(header, rows, (i) => i >= 3));
  out.push(
    `ratio = system / baseline; [low–high] = ${level} paired bootstrap CI (${c.method.resamples} resamples, seed ${c.method.seed}); ` +
      `* = a difference: the interval excludes 1 and the effect is at least the ${Math.round(c.method.min_effect * 1000) / 10}% threshold (--min-effect)`,
  );
  if (c.method.grouping) out.push(`rows: ${c.method.grouping}`);
  const hostBound = c.systems.filter((s) => s.host_bound === true);
  if (hostBound.length) out.push(`HOST-BOUND: ${hostBound.map((s) => displayLabel(s.key)).join(', ')} (run_meta.host_bound): the host's lateness shaped TTFT`);

  const all = c.rows.find((r) => r.phase === 'all');
  if (all) out.push('', 'Whole run (engine statistics over the measured window):', runLevelTable(c, all));

  out.push(...detailSections(c));

  out.push('', `Verdicts (threshold ${Math.round(c.method.min_effect * 1000) / 10}%):`);
  for (const row of c.rows) {
    for (const vs of row.vs_baseline) {
      for (const m of vs.metrics) {
        // Per context and phase the medians carry the story; the all-requests row gets every metric.
        if (row.phase === 'all' || m.metric === 'ttft_p50' || m.metric === 'latency_p50') out.push(`- ${m.verdict}`);
      }
      if (vs.evidence) out.push(`  evidence: ${vs.evidence.text}`);
    }
  }
  if (c.notes.length) out.push('', 'Notes:', ...c.notes.map((n) => `- ${n}`));
  return out.join('\n');
}

function runLevelTable(c: Comparison, all: ComparisonRow): string {
  const header = ['system', 'throughput req/s', 'cache hit rate', 'offloaded blocks', 'onboarded blocks', 'offload bandwidth GB/s'];
  const rows = c.systems.map((sys) => {
    const s = all.systems[sys.key]!;
    const why = (field: string, v: number | null, text: string) => (v === null && sys.null_reasons[field] ? `- (${sys.null_reasons[field]})` : text);
    return [
      displayLabel(sys.key),
      fmtNum(s.throughput_req_per_s),
      why('cache_hit_rate', s.cache_hit_rate, fmtPct(s.cache_hit_rate)),
      why('offloaded_blocks', s.offloaded_blocks, fmtNum(s.offloaded_blocks)),
      why('onboarded_blocks', s.onboarded_blocks, fmtNum(s.onboarded_blocks)),
      why('observed_offload_bandwidth_gbps', s.offload_bandwidth_gbps, fmtNum(s.offload_bandwidth_gbps)),
    ];
  });
  return textTable(header, rows, (i) => i >= 1);
}

/** One run on its own (no baseline): timings per context and phase, then its whole-run figures. */
export function renderRunSummaryTable(c: Comparison): string {
  const sys = c.systems[0];
  if (!sys) return '';
  const header = ['context', 'phase', 'n', 'fail', 'TTFT p50 ms', 'p95', 'p99', 'latency p50 ms', 'p95', 'p99'];
  const rows = c.rows.map((row) => {
    const s = row.systems[sys.key]!;
    return [
      contextLabel(row.context_tokens),
      row.phase,
      String(s.n),
      String(s.n_failed),
      ...[s.ttft_s.p50, s.ttft_s.p95, s.ttft_s.p99, s.latency_s.p50, s.latency_s.p95, s.latency_s.p99].map(fmtMs),
    ];
  });
  const all = c.rows.find((r) => r.phase === 'all');
  const head = `Run ${sys.run_id ?? '?'} (${displayLabel(sys.key)}${sys.workload_id ? `, workload ${sys.workload_id}` : ''})${sys.simulated ? '  [SIMULATED]' : ''}`;
  return [head, '', textTable(header, rows, (i) => i >= 2), ...(all ? ['', runLevelTable(c, all)] : []), ...detailSections(c)].join('\n');
}

const SHORT: Record<SplitPart, string> = {
  client_wait_s: 'client wait',
  to_engine_s: 'to engine',
  engine_queue_s: 'queue',
  onboard_s: 'onboard',
  prefill_s: 'prefill',
  batch_other_s: 'batch rest',
  first_token_s: 'first token',
  to_client_s: 'to client',
};
const SPLIT_COLUMNS: SplitPart[] = ['client_wait_s', 'to_engine_s', 'engine_queue_s', 'first_token_s', 'onboard_s', 'prefill_s', 'batch_other_s', 'to_client_s'];

/** Breakdown, goodput, predicted vs measured hit rate and the settings that differ: shared by both tables. */
function detailSections(c: Comparison): string[] {
  const out: string[] = [];
  if (c.breakdown?.length) {
    out.push('', 'Where TTFT went (ms): the requests around the median (TTFT p40–p60), their parts averaged; first token = onboard + prefill + batch rest where the engine splits it:');
    const header = ['context', 'phase', 'system', 'TTFT p50', 'n split', ...SPLIT_COLUMNS.map((p) => SHORT[p])];
    const rows: string[][] = [];
    const missing = new Map<string, string>();
    for (const row of c.breakdown) {
      c.systems.forEach((sys, i) => {
        const b = row.systems[sys.key];
        if (!b) return;
        const parts = new Map((b.median_split?.parts ?? []).map((p) => [p.part, p.seconds]));
        if (parts.has('onboard_s') && b.median_split) parts.set('first_token_s', (parts.get('onboard_s') ?? 0) + (parts.get('prefill_s') ?? 0) + (parts.get('batch_other_s') ?? 0));
        for (const [part, why] of Object.entries(b.null_reasons)) missing.set(`${displayLabel(sys.key)} ${SHORT[part as SplitPart]}`, why!);
        rows.push([
          i === 0 ? rowLabel(row) : '',
          i === 0 ? row.phase : '',
          displayLabel(sys.key),
          fmtMs(b.ttft_p50_s),
          `${b.median_split?.n ?? 0}/${b.n}`,
          ...SPLIT_COLUMNS.map((p) => (parts.has(p) ? fmtMs(parts.get(p)!) : '-')),
        ]);
      });
    }
    out.push(textTable(header, rows, (i) => i >= 3));
    const ratioRows = c.breakdown.flatMap((row) =>
      row.vs_baseline.map((v) => [
        rowLabel(row),
        row.phase,
        `${displayLabel(v.system)}/${displayLabel(v.baseline)}`,
        ...SPLIT_COLUMNS.map((p) => {
          const x = v.parts.find((y) => y.part === p);
          return !x || x.ratio === null ? '-' : `${fmtFactor(x.ratio, 2)}${x.ci_low !== null ? ` [${fmtFactor(x.ci_low, 2)}–${fmtFactor(x.ci_high, 2)}]` : ''}`;
        }),
      ]),
    );
    if (ratioRows.some((r) => r.slice(3).some((x) => x !== '-'))) {
      out.push('', `Each part's p50, system / baseline, paired [${Math.round(c.method.confidence * 1000) / 10}% CI]:`);
      out.push(textTable(['context', 'phase', 'ratio', ...SPLIT_COLUMNS.map((p) => SHORT[p])], ratioRows, (i) => i >= 3));
    }
    if (missing.size) out.push('Not known (-):', ...[...missing].slice(0, 12).map(([k, v]) => `- ${k}: ${v}`));
  }
  if (c.goodput) {
    const g = c.goodput;
    out.push('', `Goodput at ${sloText(g.slo)} (requests meeting every objective, per second of the measured window):`);
    const rows = c.systems.map((sys) => {
      const s = g.systems[sys.key]!;
      return [displayLabel(sys.key), `${s.met}/${s.requests}`, fmtPct(s.share), fmtNum(s.goodput_req_per_s)];
    });
    out.push(textTable(['system', 'met', 'share', 'goodput req/s'], rows, (i) => i >= 1));
    for (const v of g.vs_baseline) out.push(`- ${v.verdict}`);
  }
  if (c.hit_rate?.length) {
    out.push('', 'Cache hit rate, predicted from the workload (block-level LRU with the run\'s pools; a trace: its own hash_ids) against measured:');
    const predicted = (r: { hit_rate: number | null } | null) => (r === null ? 'not modelled' : fmtPct(r.hit_rate));
    const rows = c.hit_rate.map((h) => [
      displayLabel(h.system),
      h.pools ? String(h.pools.gpu_blocks) : '-',
      h.pools?.host_blocks != null ? String(h.pools.host_blocks) : '-',
      predicted(h.gpu_only),
      predicted(h.gpu_and_host),
      predicted(h.infinite),
      h.measured === null ? 'not reported' : fmtPct(h.measured),
      h.disagrees === null ? '-' : h.disagrees ? 'DISAGREE' : 'ok',
    ]);
    out.push(textTable(['system', 'GPU blocks', 'host blocks', 'LRU GPU only', 'LRU GPU+host', 'infinite', 'measured', 'check'], rows, (i) => i >= 1));
    for (const h of c.hit_rate) if (h.disagrees || h.gpu_and_host === null) out.push(`- ${displayLabel(h.system)}: ${h.disagrees ? h.note : (h.null_reasons.gpu_and_host ?? h.note)}`);
  }
  const mt = c.scenarios?.multiturn;
  if (mt) {
    out.push('', 'Multi-turn, by turn: TTFT p50 [interval] ms, hit rate, and the paired TTFT p50 ratio to the baseline [interval]:');
    const band = (b: { value: number | null; low: number | null; high: number | null }) => (b.value === null ? '-' : `${fmtMs(b.value)}${b.low !== null ? ` [${fmtMs(b.low)}–${fmtMs(b.high)}]` : ''}`);
    const header = ['turn', ...c.systems.flatMap((s) => [`${displayLabel(s.key)} p50`, 'hit']), ...(mt.vs_baseline.map((v) => `${displayLabel(v.system)}/${displayLabel(v.baseline)}`))];
    const rows = mt.turns.map((turn, i) => [
      String(turn),
      ...c.systems.flatMap((s) => {
        const p = mt.systems[s.key]?.[i];
        return p ? [band(p.ttft_p50_s), fmtPct(p.hit_rate)] : ['-', '-'];
      }),
      ...mt.vs_baseline.map((v) => {
        const p = v.points[i]!;
        return p.ratio === null ? '-' : `${fmtFactor(p.ratio, 2)}${p.ci_low !== null ? ` [${fmtFactor(p.ci_low, 2)}–${fmtFactor(p.ci_high, 2)}]` : ''}`;
      }),
    ]);
    out.push(textTable(header, rows, (i) => i >= 1));
  }
  const differing = (c.settings ?? []).filter((r) => r.differs && !r.identity);
  if (c.systems.length > 1 && c.settings) {
    out.push('', differing.length ? `Settings that differ between the runs (${differing.length} of ${c.settings.length}; all in the HTML report):` : 'The runs\' settings are the same (apart from ids and times).');
    if (differing.length) {
      const clip = (v: string | null) => (v === null ? '(absent)' : v.length > 48 ? `${v.slice(0, 45)}...` : v);
      out.push(textTable(['setting', ...c.systems.map((s) => displayLabel(s.key))], differing.slice(0, 40).map((r) => [r.setting, ...r.values.map(clip)])));
    }
  }
  return out;
}
