/** A sweep report as plain text for the terminal. */
import { contextLabel, displayLabel, fmtFactor, fmtMs, fmtPct } from './format.js';
import type { SweepReport } from './sweeps.js';
import { textTable } from './table.js';

export function renderSweepTable(r: SweepReport): string {
  const out: string[] = [];
  const c = r.capacity;
  if (c) {
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
    out.push(`Offload against recompute, sweep ${o.sweep_id} (replayed prompt's TTFT ms; link bound = KV bytes / measured host→GPU bandwidth):`);
    const header = ['prompt', ...o.systems.flatMap((s) => [`${displayLabel(s)} onboard`, 'recompute', 'link bound', 'speedup'])];
    const notes: string[] = [];
    const rows = o.points.map((p) => [
      contextLabel(p.prompt_tokens),
      ...o.systems.flatMap((s) => {
        const x = p.systems[s];
        if (!x) return ['-', '-', '-', '-'];
        const side = (v: typeof x.offload, what: string) => {
          if (!v) return '-';
          if (v.valid) return fmtMs(v.ttft_s);
          notes.push(`${displayLabel(s)} ${contextLabel(p.prompt_tokens)} ${what}: not counted: ${v.invalid_reason}`);
          return 'n/c';
        };
        return [side(x.offload, 'onboard'), side(x.recompute, 'recompute'), fmtMs(x.link_bound_s), x.speedup === null ? '-' : `${fmtFactor(x.speedup)}×`];
      }),
    ]);
    out.push(textTable(header, rows, (i) => i >= 1));
    if (notes.length) out.push(...notes.map((n) => `- ${n}`));
  }
  if (!out.length) out.push('No capacity or offload sweep among these runs.');
  return out.join('\n');
}
