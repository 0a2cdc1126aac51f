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
}

export interface Verdict {
  text: string;
  /** True when the interval excludes 1; null when there is no interval. */
  significant: boolean | null;
}

export function scopeText(context_tokens: number | null, phase: RowPhase): string {
  if (phase === 'all') return context_tokens === null ? 'across all requests' : `across all requests at ${contextLabel(context_tokens)} tokens`;
  return `on ${phase} at ${contextLabel(context_tokens)} tokens`;
}

/**
 * One line a reader can act on. A ratio below 1 is stated as a factor "lower"
 * (3.1× lower means the other system takes 1/3.1 of the baseline's time), so
 * the interval is inverted with it; "no significant difference" when the
 * interval holds 1.
 */
export function verdictFor(v: VerdictInput): Verdict {
  const who = displayLabel(v.system);
  const than = displayLabel(v.baseline);
  const scope = scopeText(v.context_tokens, v.phase);
  const level = `${Math.round(v.confidence * 1000) / 10}% CI`;
  if (v.ratio === null || !Number.isFinite(v.ratio)) {
    return { text: `${who} ${v.metricName} ${scope}: not comparable with ${than} (${v.reason ?? 'no value'})`, significant: null };
  }
  const lower = v.ratio < 1;
  const factor = lower ? 1 / v.ratio : v.ratio;
  const d = factorDecimals(factor);
  if (v.ci === null) {
    const why = v.reason ?? 'no interval';
    if (fmtFactor(factor, d) === fmtFactor(1, d)) {
      return { text: `${who} ${v.metricName} ${scope}: same as ${than} (${why})`, significant: null };
    }
    return {
      text: `${who} ${v.metricName} ${fmtFactor(factor, d)}× ${lower ? 'lower' : 'higher'} than ${than} ${scope} (${why})`,
      significant: null,
    };
  }
  const [lo, hi] = v.ci;
  const holdsOne = lo <= 1 && hi >= 1;
  if (holdsOne) {
    const rd = factorDecimals(Math.max(v.ratio, hi));
    return {
      text: `${who} ${v.metricName} ${scope}: no significant difference from ${than} (ratio ${fmtFactor(v.ratio, rd)}, ${level} ${fmtFactor(lo, rd)}–${fmtFactor(hi, rd)})`,
      significant: false,
    };
  }
  const [a, b] = lower ? [1 / hi, 1 / lo] : [lo, hi];
  return {
    text: `${who} ${v.metricName} ${fmtFactor(factor, d)}× ${lower ? 'lower' : 'higher'} than ${than} ${scope}, ${level} ${fmtFactor(a, d)}–${fmtFactor(b, d)}×`,
    significant: true,
  };
}
