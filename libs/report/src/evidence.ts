/**
 * The evidence beside a row's verdict: where each side's prompt KV came from (requests that reloaded
 * from the host, blocks onboarded), the least time the link needs for what was reloaded (its bound),
 * and the parts of TTFT whose difference is meaningful. When no request reloaded from the host on
 * either side, the comparison did not exercise the link: a difference there is compute, queueing or
 * the host, not the link kvbench is asked about.
 */
import { percentile, type RunResult, type Sample } from '@kvbench/common';
import { PART_NAMES, type SplitPart } from './breakdown.js';
import { displayLabel, fmtFactor, fmtMs } from './format.js';
import { kvPoolsOf } from './hit-rate.js';
import { blockBytes, onboardBandwidth } from './sweeps.js';
import { isMeasured } from './pairing.js';
import type { BreakdownRow, Evidence } from './types.js';
import { effectOf } from './verdict.js';

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

interface Side {
  key: string;
  run: RunResult;
  samples: readonly Sample[];
  hostBound: boolean;
}

interface SideFigures {
  requests: number;
  reloaded: number | null;
  onboarded: number | null;
  onboardedFrom: string;
  /** Host-onboarded tokens per measured request, where the engine says (sample.tokens.host_onboarded). */
  onboardedTokens: Map<string, number>;
  reasons: Record<string, string>;
}

function sideFigures(side: Side, allRow: boolean): SideFigures {
  const measured = side.samples.filter(isMeasured);
  const reasons: Record<string, string> = {};
  const pools = kvPoolsOf(side.run);
  const tpb = pools?.tokens_per_block ?? null;
  const known = measured.filter((s) => num(s.tokens?.host_onboarded) !== null);
  let reloaded: number | null = null;
  let onboarded: number | null = null;
  let onboardedFrom = 'per-request token tiers (sample.tokens.host_onboarded)';
  const reloadedTokens: number[] = [];
  const onboardedTokens = new Map<string, number>();
  if (known.length > 0) {
    for (const s of known) {
      const t = num(s.tokens!.host_onboarded)!;
      if (!onboardedTokens.has(s.request_id)) onboardedTokens.set(s.request_id, t);
      if (t > 0) reloadedTokens.push(t);
    }
    reloaded = reloadedTokens.length;
    onboarded = tpb ? reloadedTokens.reduce((a, t) => a + t, 0) / tpb : null;
    if (onboarded === null) reasons.onboarded_blocks = 'the run records no tokens per block';
  } else {
    reasons.requests_reloaded = measured[0]?.tokens?.null_reasons?.['host_onboarded'] ?? 'the engine does not say per request where prompt tokens came from';
    if (allRow) {
      onboarded = num(side.run.log_metrics?.onboarded_blocks);
      onboardedFrom = "the run's counters (log_metrics.onboarded_blocks)";
      if (onboarded === null) reasons.onboarded_blocks = side.run.log_metrics?.null_reasons?.['onboarded_blocks'] ?? 'not reported by the engine';
    } else reasons.onboarded_blocks = reasons.requests_reloaded;
  }
  return { requests: measured.length, reloaded, onboarded, onboardedFrom, onboardedTokens, reasons };
}

/** The link bound of a row, computed once for both sides over the same requests. */
interface LinkBounds {
  /** Requests measured on both sides that reloaded from the host on either side. */
  requests: number;
  /** Median over those requests of the KV tokens reloaded (per request, the larger of the two sides'). */
  kvTokens: number | null;
  baseline: { bound: number | null; source: string | null };
  system: { bound: number | null; source: string | null };
  reasons: Record<string, string>;
}

/**
 * Both sides' bounds refer to the same KV: the requests measured on both sides that reloaded from
 * the host on either side (a side that says nothing per request counts as reloading nothing), each
 * taken at the larger of its two reloads (the KV at least one side found on its host), and the
 * median of those. Each side's bound is that KV over its own host→GPU bandwidth, so the two bounds
 * differ by the links alone. Each side's own median reloaded request could be a different request
 * (a 4-block top-up on one side, a 256-block reload on the other), which made the bounds of two
 * runs of the same comparison differ 30×. A median over a set keyed by request id does not depend
 * on arrival order.
 */
function linkBounds(base: Side, other: Side, b: SideFigures, o: SideFigures): LinkBounds {
  const reasons: Record<string, string> = {};
  const none = { bound: null, source: null };
  const nothing = (why: string): LinkBounds => ({ requests: 0, kvTokens: null, baseline: none, system: none, reasons: { 'baseline.link_bound_s': why, 'system.link_bound_s': why } });
  if (b.onboardedTokens.size === 0 && o.onboardedTokens.size === 0) return nothing(b.reasons.requests_reloaded ?? o.reasons.requests_reloaded ?? 'unknown');
  const measuredIds = (side: Side) => new Set(side.samples.filter(isMeasured).map((s) => s.request_id));
  const bIds = measuredIds(base);
  const oIds = measuredIds(other);
  const reloadedTokens: number[] = [];
  for (const id of [...bIds].filter((x) => oIds.has(x)).sort()) {
    const t = Math.max(b.onboardedTokens.get(id) ?? 0, o.onboardedTokens.get(id) ?? 0);
    if (t > 0) reloadedTokens.push(t);
  }
  if (reloadedTokens.length === 0) return nothing(b.reloaded || o.reloaded ? 'no request measured on both sides reloaded from the host' : 'no request reloaded from the host');
  const kvTokens = percentile(reloadedTokens, 50)!;
  const bound = (side: Side, key: 'baseline' | 'system') => {
    const tpb = kvPoolsOf(side.run)?.tokens_per_block ?? null;
    const bb = blockBytes(side.run);
    const bw = onboardBandwidth(side.run, bb);
    if (bb === null || !tpb) reasons[`${key}.link_bound_s`] = 'the run does not record the KV bytes of a block (kv_pools.block_bytes)';
    else if (!bw) reasons[`${key}.link_bound_s`] = 'no host→GPU bandwidth: not measured by the engine, no link check at this block size, no profile figure';
    else return { bound: (kvTokens * (bb / tpb)) / (bw.gbps * 1e9), source: bw.source };
    return none;
  };
  return { requests: reloadedTokens.length, kvTokens, baseline: bound(base, 'baseline'), system: bound(other, 'system'), reasons };
}

export function rowEvidence(base: Side, other: Side, breakdown: BreakdownRow | undefined, allRow: boolean, minEffect: number): Evidence {
  const b = sideFigures(base, allRow);
  const o = sideFigures(other, allRow);
  const lb = linkBounds(base, other, b, o);
  const moved = (f: SideFigures) => (f.reloaded !== null ? f.reloaded > 0 : f.onboarded !== null ? f.onboarded > 0 : null);
  const mb = moved(b);
  const mo = moved(o);
  const link_exercised = mb === true || mo === true ? true : mb === false && mo === false ? false : null;
  const vs = breakdown?.vs_baseline.find((v) => v.system === other.key);
  const parts = (vs?.parts ?? [])
    .filter((p) => p.ci_low !== null && p.ci_high !== null && (p.ci_low > 1 || p.ci_high < 1) && (effectOf(p.ratio) ?? 0) >= minEffect - 1e-12)
    .map((p) => ({
      part: p.part,
      name: PART_NAMES[p.part as SplitPart],
      baseline_p50_s: breakdown?.systems[base.key]?.part_p50_s[p.part] ?? null,
      system_p50_s: breakdown?.systems[other.key]?.part_p50_s[p.part] ?? null,
      ratio: p.ratio,
      ci_low: p.ci_low,
      ci_high: p.ci_high,
    }));
  const host_bound = base.hostBound || other.hostBound;
  const B = displayLabel(base.key);
  const O = displayLabel(other.key);
  const blocks = (f: SideFigures) => (f.onboarded === null ? 'unknown' : String(Math.round(f.onboarded)));
  const reload = (f: SideFigures) => (f.reloaded === null ? '' : ` (${f.reloaded} of ${f.requests} requests reloaded)`);
  const text: string[] = [`blocks onboarded from host: ${B} ${blocks(b)}${reload(b)}, ${O} ${blocks(o)}${reload(o)}`];
  if (link_exercised === false) {
    const offloaded = [base, other].some((x) => (num(x.run.log_metrics?.offloaded_blocks) ?? 0) > 0);
    text.push(
      offloaded
        ? 'no request reloaded from the host on either side: this comparison did not exercise the link\'s reload path (host → GPU); blocks evicted to the host still crossed it (offloads, inside "rest of the first iteration")'
        : 'no request reloaded from the host on either side: this comparison did not exercise the link',
    );
  }
  else if (link_exercised === null) text.push('neither engine says whether requests reloaded from the host: whether the link was exercised is unknown');
  if (lb.baseline.bound !== null || lb.system.bound !== null) {
    text.push(
      `link bound (the median KV of the ${lb.requests} paired request(s) that reloaded on either side, ${Math.round(lb.kvTokens!)} tokens, over each side's host→GPU bandwidth): ${B} ${fmtMs(lb.baseline.bound)} ms, ${O} ${fmtMs(lb.system.bound)} ms`,
    );
  }
  if (parts.length) text.push(`TTFT parts that differ: ${parts.map((p) => `${p.name} ${fmtMs(p.baseline_p50_s)} → ${fmtMs(p.system_p50_s)} ms (×${fmtFactor(p.ratio, 2)})`).join('; ')}`);
  else if (vs?.parts.some((p) => p.paired > 0)) text.push('no TTFT part differs meaningfully');
  if (host_bound) text.push('host-bound: the simulator\'s host was late enough to shape TTFT (run_meta.host_bound)');
  const null_reasons: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.reasons)) null_reasons[`baseline.${k}`] = v;
  for (const [k, v] of Object.entries(o.reasons)) null_reasons[`system.${k}`] = v;
  for (const [k, v] of Object.entries(lb.reasons)) null_reasons[k] = v;
  return {
    requests: { baseline: b.requests, system: o.requests },
    requests_reloaded: { baseline: b.reloaded, system: o.reloaded },
    onboarded_blocks: { baseline: b.onboarded, system: o.onboarded },
    onboarded_source: b.onboardedFrom === o.onboardedFrom ? b.onboardedFrom : `${B}: ${b.onboardedFrom}; ${O}: ${o.onboardedFrom}`,
    link_bound_s: { baseline: lb.baseline.bound, system: lb.system.bound },
    link_bound_source: { baseline: lb.baseline.source, system: lb.system.source },
    link_bound_basis: { requests: lb.requests, kv_tokens: lb.kvTokens },
    link_exercised,
    parts,
    host_bound,
    text: text.join('. '),
    null_reasons,
  };
}
