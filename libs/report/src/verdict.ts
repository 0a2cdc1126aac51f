import { contextLabel, displayLabel, factorDecimals, fmtFactor } from './format.js';
import type { RowPhase } from './types.js';

export interface VerdictInput {
  system: string;
  baseline: string;
  /** Human name of the metric, e.g. "TTFT p50". */
  metricName: string;
  /** other / baseline. */
  ratio: number | null;
  /** Interval of the ratio; null for run-level figures (one value per run) or too little data. */
  ci: readonly [number, number] | null;
  confidence: number;
  context_tokens: number | null;
  phase: RowPhase;
  /** Why ratio or ci is missing, when they are. */
  reason?: string;
  /** Practical threshold as a fraction (0.05 = 5%): smaller effects are no meaningful difference. */
  minEffect?: number;
  /** Either side was host-bound (run_meta.host_bound): said beside the verdict. */
  hostBound?: boolean;
  /** A per-request (bootstrapped) metric: without an interval it gets no verdict, only its ratio. */
  paired?: boolean;
  /** Row label override, e.g. a length bucket "4K–8K tokens". */
  scope?: string;
}

/** The default practical threshold: 5%. */
export const DEFAULT_MIN_EFFECT = 0.05;

export interface Verdict {
  text: string;
  /** True when the interval excludes 1; null when there is no interval. */
  significant: boolean | null;
  /** True when a difference is called: the interval excludes 1 and the effect reaches the threshold. */
  meaningful: boolean | null;
  /** max(ratio, 1/ratio) − 1; null without a ratio. */
  effect: number | null;
}

/** A difference's size as a factor − 1, whichever way it goes (ratio 0.8 and 1.25 are both 25%). */
export function effectOf(ratio: number | null): number | null {
  if (ratio === null || !Number.isFinite(ratio) || ratio <= 0) return null;
  return Math.max(ratio, 1 / ratio) - 1;
}

const pct = (f: number) => `${Math.round(f * 1000) / 10}%`;

export function scopeText(context_tokens: number | null, phase: RowPhase): string {
  if (phase === 'all') return context_tokens === null ? 'across all requests' : `across all requests at ${contextLabel(context_tokens)} tokens`;
  return `on ${phase} at ${contextLabel(context_tokens)} tokens`;
}

/**
 * One line a reader can act on. A ratio below 1 is stated as a factor "lower"
 * (3.1× lower means the other system takes 1/3.1 of the baseline's time), so
 * the interval is inverted with it. A difference is called only when the
 * interval excludes 1 (no change) AND the effect, max(ratio, 1/ratio) − 1, is
 * at least the practical threshold; otherwise "no meaningful difference" with
 * the interval and why. A host-bound run says so beside the verdict.
 */
export function verdictFor(v: VerdictInput): Verdict {
  const who = displayLabel(v.system);
  const than = displayLabel(v.baseline);
  const scope = v.scope ?? scopeText(v.context_tokens, v.phase);
  const level = `${Math.round(v.confidence * 1000) / 10}% CI`;
  const minEffect = v.minEffect ?? DEFAULT_MIN_EFFECT;
  const host = v.hostBound ? ' [host-bound: the host, not the modelled hardware, set the pace on at least one side]' : '';
  if (v.ratio === null || !Number.isFinite(v.ratio)) {
    return { text: `${who} ${v.metricName} ${scope}: not comparable with ${than} (${v.reason ?? 'no value'})${host}`, significant: null, meaningful: null, effect: null };
  }
  const effect = effectOf(v.ratio);
  const lower = v.ratio < 1;
  const factor = lower ? 1 / v.ratio : v.ratio;
  const d = factorDecimals(factor);
  if (v.ci === null && v.paired) {
    // A paired metric without an interval is no evidence either way: say the ratio, call nothing.
    return {
      text: `${who} ${v.metricName} ${scope}: no verdict (ratio ${fmtFactor(v.ratio, factorDecimals(Math.max(v.ratio, 1 / v.ratio)))} against ${than}, no interval: ${v.reason ?? 'no interval'})${host}`,
      significant: null,
      meaningful: null,
      effect,
    };
  }
  if (v.ci === null) {
    const why = v.reason ?? 'no interval';
    if (fmtFactor(factor, d) === fmtFactor(1, d)) {
      return { text: `${who} ${v.metricName} ${scope}: same as ${than} (${why})${host}`, significant: null, meaningful: null, effect };
    }
    return {
      text: `${who} ${v.metricName} ${fmtFactor(factor, d)}× ${lower ? 'lower' : 'higher'} than ${than} ${scope} (${why})${host}`,
      significant: null,
      meaningful: null,
      effect,
    };
  }
  const [lo, hi] = v.ci;
  const holdsOne = lo <= 1 && hi >= 1;
  const big = effect !== null && effect >= minEffect - 1e-12;
  if (holdsOne || !big) {
    const rd = factorDecimals(Math.max(v.ratio, hi));
    const why = holdsOne ? 'the interval holds 1' : `${pct(effect ?? 0)} is under the ${pct(minEffect)} threshold`;
    return {
      text: `${who} ${v.metricName} ${scope}: no meaningful difference from ${than} (ratio ${fmtFactor(v.ratio, rd)}, ${level} ${fmtFactor(lo, rd)}–${fmtFactor(hi, rd)}; ${why})${host}`,
      significant: !holdsOne,
      meaningful: false,
      effect,
    };
  }
  const [a, b] = lower ? [1 / hi, 1 / lo] : [lo, hi];
  return {
    text: `${who} ${v.metricName} ${fmtFactor(factor, d)}× ${lower ? 'lower' : 'higher'} than ${than} ${scope}, ${level} ${fmtFactor(a, d)}–${fmtFactor(b, d)}×${host}`,
    significant: true,
    meaningful: true,
    effect,
  };
}
