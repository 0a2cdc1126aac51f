/** A sweep report as plain text for the terminal. */
import { contextLabel, displayLabel, fmtFactor, fmtMs, fmtPct } from './format.js';
import type { ReplayStats, SweepReport } from './sweeps.js';
import { textTable } from './table.js';

export function renderSweepTable(r: SweepReport): string {
  const out: string[] = [];
  const c = r.capacity;
  if (c) {
    if (c.provenance.note) out.push(c.provenance.note);
    out.push(`Capacity sweep ${c.sweep_id} (TTFT of the measured rounds; tiers: ${c.systems.map((s) => `${displayLabel(s)} G=${c.tiers[s]!.G ?? '?'} G+H=${c.tiers[s]!.GH ?? '?'} tokens`).join(', ')}):`);
    const others = c.systems.filter((s) => s !== c.baseline);
    const header = ['point', 'working set', 'GiB', ...c.systems.flatMap((s) => [`${displayLabel(s)} p50 ms`, 'p90', 'hit']), ...others.map((s) => `${displayLabel(s)}/${displayLabel(c.baseline)} p50`)];
    const rows = c.points.map((p) => [
      p.point,
      p.working_set_tokens === null ? '-' : String(p.working_set_tokens),
      p.working_set_gib === null ? '-' : p.working_set_gib.toFixed(1),
      ...c.systems.flatMap((s) => [fmtMs(p.systems[s]?.ttft_p50_s), fmtMs(p.systems[s]?.ttft_p90_s), fmtPct(p.systems[s]?.hit_rate)]),
      ...others.map((s) => {
        const v = p.vs_baseline.find((x) => x.system === s);
        return v?.ratio == null ? '-' : `${fmtFactor(v.ratio, 2)}${v.ci_low !== null ? ` [${fmtFactor(v.ci_low, 2)}–${fmtFactor(v.ci_high, 2)}]` : ''}`;
      }),
    ]);
    out.push(textTable(header, rows, (i) => i >= 1));
  }
  const o = r.offload;
  if (o) {
    if (out.length) out.push('');
    if (o.provenance.note && o.provenance.note !== c?.provenance.note) out.push(o.provenance.note);
    out.push(
      `Offload against recompute, sweep ${o.sweep_id}: the replayed prompt's TTFT ms, median of the valid replays [95% interval] (valid/run); ` +
        'engine = the engine\'s own first-token time (scheduled → first token) of the onboard replays, median; link bound = the least time the link needs for the replay\'s KV (host→GPU, with the offloads a reload into a full GPU pool forces where the engine offloads on eviction); ! = flagged (below):',
    );
    const others = o.systems.filter((s) => s !== o.baseline);
    const header = [
      'prompt',
      ...o.systems.flatMap((s) => [`${displayLabel(s)} onboard`, 'engine', 'recompute', 'link bound', 'speedup']),
      ...others.map((s) => `${displayLabel(s)}/${displayLabel(o.baseline)} onboard`),
    ];
    const notes: string[] = [];
    const med = (v: ReplayStats) =>
      v.n === 0 ? '-' : v.valid === 0 ? `n/c (0/${v.n})` : `${fmtMs(v.ttft_median_s)}${v.ci_low_s !== null ? ` [${fmtMs(v.ci_low_s)}–${fmtMs(v.ci_high_s)}]` : ''} (${v.valid}/${v.n})`;
    const rows = o.points.map((p) => [
      contextLabel(p.prompt_tokens),
      ...o.systems.flatMap((s) => {
        const x = p.systems[s];
        if (!x) return ['-', '-', '-', '-', '-'];
        for (const f of x.flags) notes.push(`${displayLabel(s)} ${contextLabel(p.prompt_tokens)}: ${f}`);
        return [med(x.offload_replays) + (x.flags.length ? ' !' : ''), fmtMs(x.offload_replays.engine_first_token_median_s), med(x.recompute_replays), fmtMs(x.link_bound_s), x.speedup === null ? '-' : `${fmtFactor(x.speedup)}×`];
      }),
      ...others.map((s) => {
        const v = p.vs_baseline.find((y) => y.system === s);
        return v?.ratio == null ? '-' : `${fmtFactor(v.ratio, 2)}${v.ci_low !== null ? ` [${fmtFactor(v.ci_low, 2)}–${fmtFactor(v.ci_high, 2)}]` : ''}`;
      }),
    ]);
    out.push(textTable(header, rows, (i) => i >= 1));
    if (notes.length) out.push(...notes.map((n) => `- ${n}`));
  }
  if (!out.length) out.push('No capacity or offload sweep among these runs.');
  return out.join('\n');
}
