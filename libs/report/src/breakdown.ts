/**
 * Where TTFT went, per system, context and phase: the p50 of TTFT split into its parts.
 *
 * Medians of parts do not add up to the median of their sum, so the split is taken from the requests
 * around the median instead: those whose TTFT lies between its 40th and 60th percentiles (at least the
 * one nearest the median). Their parts are averaged, and those averages add up to their mean TTFT,
 * which is within the p40–p60 band by construction. Each part's own p50 over all requests is given too.
 */
import { BREAKDOWN_PARTS, percentile, type Sample } from '@kvbench/common';

/** The parts drawn: the top-level ones, with first_token split where the engine says how (the simulator). */
import type { z } from 'zod';
import { SPLIT_PARTS, type BreakdownStatsSchema } from './schema.js';
export { SPLIT_PARTS };
export type SplitPart = (typeof SPLIT_PARTS)[number];

export const PART_NAMES: Record<SplitPart, string> = {
  client_wait_s: 'client wait (released → written)',
  to_engine_s: 'to engine (written → engine arrival)',
  engine_queue_s: 'engine queue (arrival → scheduled)',
  onboard_s: 'KV onboard (host → GPU)',
  prefill_s: 'prefill compute',
  batch_other_s: 'rest of the first iteration(s) (batched work, offloads)',
  first_token_s: 'first token (scheduled → first token)',
  to_client_s: 'to client (first token → first text)',
};

export type BreakdownStats = z.infer<typeof BreakdownStatsSchema>;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function breakdownStats(samples: readonly Sample[]): BreakdownStats {
  const measured = samples.filter((s) => s.ok && finite(s.ttft_s));
  const ttfts = measured.map((s) => s.ttft_s!);
  const part_p50_s: BreakdownStats['part_p50_s'] = {};
  const reasons: Partial<Record<SplitPart, Map<string, number>>> = {};
  for (const part of SPLIT_PARTS) {
    const vals: number[] = [];
    for (const s of measured) {
      const v = s.breakdown?.[part];
      if (finite(v)) vals.push(v);
      else {
        const why = s.breakdown ? (s.breakdown.null_reasons[part] ?? 'not reported') : 'the sample has no breakdown (recorded before kvbench measured one)';
        const m = (reasons[part] ??= new Map());
        m.set(why, (m.get(why) ?? 0) + 1);
      }
    }
    part_p50_s[part] = percentile(vals, 50);
  }
  const null_reasons: BreakdownStats['null_reasons'] = {};
  for (const [part, m] of Object.entries(reasons) as [SplitPart, Map<string, number>][]) {
    if (part_p50_s[part] !== null) continue; // some requests have it: the p50 stands
    null_reasons[part] = [...m.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  }

  const complete = measured.filter((s) => s.breakdown && BREAKDOWN_PARTS.every((k) => finite(s.breakdown![k])));
  let median_split: BreakdownStats['median_split'] = null;
  if (complete.length > 0) {
    const t = complete.map((s) => s.ttft_s!);
    const lo = percentile(t, 40)!;
    const hi = percentile(t, 60)!;
    let band = complete.filter((s) => s.ttft_s! >= lo && s.ttft_s! <= hi);
    if (band.length === 0) {
      const mid = percentile(t, 50)!;
      band = [complete.reduce((a, b) => (Math.abs(b.ttft_s! - mid) < Math.abs(a.ttft_s! - mid) ? b : a))];
    }
    const split = band.every((s) => finite(s.breakdown!.onboard_s) && finite(s.breakdown!.prefill_s) && finite(s.breakdown!.batch_other_s));
    const order: SplitPart[] = split
      ? ['client_wait_s', 'to_engine_s', 'engine_queue_s', 'onboard_s', 'prefill_s', 'batch_other_s', 'to_client_s']
      : ['client_wait_s', 'to_engine_s', 'engine_queue_s', 'first_token_s', 'to_client_s'];
    const avg = (part: SplitPart) => band.reduce((a, s) => a + (s.breakdown![part] as number), 0) / band.length;
    median_split = { n: band.length, ttft_mean_s: band.reduce((a, s) => a + s.ttft_s!, 0) / band.length, parts: order.map((part) => ({ part, seconds: avg(part) })) };
  }
  return { n: measured.length, n_complete: complete.length, ttft_p50_s: percentile(ttfts, 50), part_p50_s, median_split, null_reasons };
}
