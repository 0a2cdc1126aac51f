/**
 * Goodput at the user's SLOs: requests per second that met every objective, over the run's measured
 * window (as vLLM's --goodput and AIPerf's do), with the paired ratio to the baseline: the same
 * requests on both systems, resampled together, so the interval reflects the pairing.
 */
import { measuredWindow, ValidationError, type Sample } from '@kvbench/common';
import type { z } from 'zod';
import type { Rng } from './bootstrap.js';
import type { GoodputStatsSchema, SloSchema } from './schema.js';

/** Objectives in milliseconds; a request meets the SLO when it meets every one given. */
export type Slo = z.infer<typeof SloSchema>;

const SLO_KEYS = ['ttft_ms', 'latency_ms'] as const;

/** "ttft_ms=500,latency_ms=2000" (the CLI's --slo and /compare's slo=). */
export function parseSlo(text: string, field = 'slo'): Slo {
  const out: Slo = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z_]+)\s*[=:]\s*([0-9]+(?:\.[0-9]+)?)$/.exec(part);
    if (!m) throw new ValidationError(`${field}: '${part.slice(0, 60)}' is not name=milliseconds (e.g. ttft_ms=500,latency_ms=2000)`, field);
    const key = m[1] as (typeof SLO_KEYS)[number];
    if (!SLO_KEYS.includes(key)) throw new ValidationError(`${field}: unknown objective '${m[1]}' (known: ${SLO_KEYS.join(', ')})`, field);
    const v = Number(m[2]);
    if (!(v > 0)) throw new ValidationError(`${field}: ${key} must be positive`, field);
    out[key] = v;
  }
  if (Object.keys(out).length === 0) throw new ValidationError(`${field}: give at least one objective (ttft_ms=…, latency_ms=…)`, field);
  return out;
}

export const sloText = (slo: Slo) => SLO_KEYS.filter((k) => slo[k] !== undefined).map((k) => `${k}=${slo[k]}`).join(',');

export function meetsSlo(s: Sample, slo: Slo): boolean {
  if (!s.ok || s.ttft_s === null || s.latency_s === null) return false;
  if (slo.ttft_ms !== undefined && s.ttft_s * 1000 > slo.ttft_ms) return false;
  if (slo.latency_ms !== undefined && s.latency_s * 1000 > slo.latency_ms) return false;
  return true;
}

export type GoodputStats = z.infer<typeof GoodputStatsSchema>;

export function goodputStats(samples: readonly Sample[], slo: Slo): GoodputStats {
  const met = samples.filter((s) => meetsSlo(s, slo)).length;
  const window_s = measuredWindow(samples);
  return { requests: samples.length, met, share: samples.length ? met / samples.length : null, window_s, goodput_req_per_s: window_s > 0 ? met / window_s : null };
}

/**
 * Ratio of goodputs (other / baseline) with a paired bootstrap interval: request ids drawn with
 * replacement, the same draw on both sides; each run's window held fixed.
 */
export function goodputRatio(
  baseline: readonly Sample[],
  other: readonly Sample[],
  slo: Slo,
  opts: { resamples: number; confidence: number; rng: Rng },
): { ratio: number | null; ci_low: number | null; ci_high: number | null; paired: number } {
  const bw = measuredWindow(baseline);
  const ow = measuredWindow(other);
  const o = new Map(other.map((s) => [s.request_id, s]));
  const pairs: [number, number][] = [];
  for (const b of baseline) {
    const x = o.get(b.request_id);
    if (x) pairs.push([meetsSlo(b, slo) ? 1 : 0, meetsSlo(x, slo) ? 1 : 0]);
  }
  const n = pairs.length;
  if (n === 0 || !(bw > 0) || !(ow > 0)) return { ratio: null, ci_low: null, ci_high: null, paired: n };
  const ratioOf = (sb: number, so: number) => (sb === 0 ? null : (so / ow) / (sb / bw));
  let sb = 0;
  let so = 0;
  for (const [b, x] of pairs) (sb += b), (so += x);
  const ratio = ratioOf(sb, so);
  if (n < 2) return { ratio, ci_low: null, ci_high: null, paired: n };
  const draws: number[] = [];
  for (let r = 0; r < opts.resamples; r++) {
    let rb = 0;
    let ro = 0;
    for (let i = 0; i < n; i++) {
      const p = pairs[Math.floor(opts.rng() * n)]!;
      rb += p[0];
      ro += p[1];
    }
    const v = ratioOf(rb, ro);
    if (v !== null) draws.push(v);
  }
  draws.sort((a, b) => a - b);
  const q = (p: number) => {
    if (draws.length === 0) return null;
    const h = (draws.length - 1) * p;
    const lo = Math.floor(h);
    return draws[lo]! + (h - lo) * (draws[Math.min(lo + 1, draws.length - 1)]! - draws[lo]!);
  };
  const alpha = (1 - opts.confidence) / 2;
  return { ratio, ci_low: q(alpha), ci_high: q(1 - alpha), paired: n };
}
