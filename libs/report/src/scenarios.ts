/**
 * Reports along a scenario's own axis, for runs of scenario workloads (samples tagged with
 * `scenario`: kind, session and turn, trace line...):
 * - multi-turn: TTFT p50 and p90 by turn index, each with its bootstrap interval, the cache hit rate
 *   by turn (Σ cached tokens / Σ prompt tokens, as SGLang's bench_multiturn reports it), and the paired
 *   ratio to the baseline per turn;
 * - trace: the TTFT distribution (CDF) and TTFT over the run.
 */
import seedrandom from 'seedrandom';
import type { z } from 'zod';
import type * as S from './schema.js';
import { percentile, type Sample } from '@kvbench/common';
import { pairedBootstrapRatios, type Rng } from './bootstrap.js';
import { isMeasured, pairByRequestId } from './pairing.js';

/** The scenario tags a sample carries (issue-14's ScenarioTags), read without assuming they are there. */
export interface ScenarioTagsView {
  kind?: string;
  session_id?: string;
  turn?: number;
  trace_line?: number;
}

export function scenarioOf(s: Sample): ScenarioTagsView | null {
  const t = (s as Record<string, unknown>)['scenario'];
  return t && typeof t === 'object' && !Array.isArray(t) ? (t as ScenarioTagsView) : null;
}

export type Band = z.infer<typeof S.BandSchema>;

export type TurnPoint = z.infer<typeof S.TurnPointSchema>;

export type MultiturnReport = z.infer<typeof S.MultiturnReportSchema>;

export type TraceReport = z.infer<typeof S.TraceReportSchema>;

export type ScenarioReports = z.infer<typeof S.ScenarioReportsSchema>;

interface Settings {
  resamples: number;
  confidence: number;
  seed: string;
}

/** Interval of one system's percentile (resampling its requests), numpy-linear like every percentile here. */
function percentileBand(values: number[], p: number, s: Settings, rng: Rng): Band {
  const value = percentile(values, p);
  if (values.length < 2) return { value, low: null, high: null };
  const draws = new Float64Array(s.resamples);
  const buf = new Array<number>(values.length);
  for (let r = 0; r < s.resamples; r++) {
    for (let i = 0; i < values.length; i++) buf[i] = values[Math.floor(rng() * values.length)]!;
    draws[r] = percentile(buf, p)!;
  }
  const alpha = (1 - s.confidence) / 2;
  const sorted = Array.from(draws).sort((a, b) => a - b);
  return { value, low: percentile(sorted, alpha * 100), high: percentile(sorted, (1 - alpha) * 100) };
}

function cachedTokens(s: Sample): number | null {
  if (s.tokens && typeof s.tokens.cached === 'number') return s.tokens.cached;
  if (s.tokens && typeof s.tokens.gpu_hit === 'number' && typeof s.tokens.host_onboarded === 'number') return s.tokens.gpu_hit + s.tokens.host_onboarded;
  return s.cached_tokens;
}

export function scenarioReports(systems: { key: string; samples: readonly Sample[] }[], baselineKey: string, settings: Settings): ScenarioReports {
  return { multiturn: multiturnReport(systems, baselineKey, settings), trace: traceReport(systems) };
}

function multiturnReport(systems: { key: string; samples: readonly Sample[] }[], baselineKey: string, settings: Settings): MultiturnReport | null {
  const turnOf = (s: Sample) => {
    const t = scenarioOf(s);
    return t?.kind === 'multiturn' && typeof t.turn === 'number' ? t.turn : null;
  };
  const turns = [...new Set(systems.flatMap((s) => s.samples.map(turnOf).filter((t): t is number => t !== null)))].sort((a, b) => a - b);
  if (turns.length === 0) return null;
  const out: MultiturnReport = { turns, systems: {}, vs_baseline: [] };
  for (const sys of systems) {
    out.systems[sys.key] = turns.map((turn) => {
      const inTurn = sys.samples.filter((s) => turnOf(s) === turn);
      const ttft = inTurn.filter(isMeasured).map((s) => s.ttft_s);
      const rng = seedrandom.alea(`${settings.seed}|turn|${turn}|${sys.key}`);
      let cached = 0;
      let prompt = 0;
      let known = true;
      for (const s of inTurn) {
        const c = cachedTokens(s);
        if (c === null) known = false;
        else (cached += c), (prompt += s.prompt_tokens_server ?? s.prompt_tokens_client);
      }
      return {
        turn,
        n: ttft.length,
        ttft_p50_s: percentileBand(ttft, 50, settings, rng),
        ttft_p90_s: percentileBand(ttft, 90, settings, rng),
        hit_rate: known && prompt > 0 ? cached / prompt : null,
      };
    });
  }
  const base = systems.find((s) => s.key === baselineKey);
  if (base) {
    for (const other of systems) {
      if (other.key === baselineKey) continue;
      out.vs_baseline.push({
        system: other.key,
        baseline: baselineKey,
        points: turns.map((turn) => {
          const pairs = pairByRequestId(base.samples.filter((s) => turnOf(s) === turn), other.samples.filter((s) => turnOf(s) === turn));
          const rng = seedrandom.alea(`${settings.seed}|turn-ratio|${turn}|${baselineKey}|${other.key}`);
          const [iv] = pairedBootstrapRatios(pairs.baseline.ttft_s, pairs.other.ttft_s, { percentiles: [50], resamples: settings.resamples, confidence: settings.confidence, rng });
          return { turn, paired: pairs.request_ids.length, ratio: iv!.estimate, ci_low: iv!.low, ci_high: iv!.high };
        }),
      });
    }
  }
  return out;
}

/** At most this many points per system in the report (a trace can hold tens of thousands of requests). */
const MAX_POINTS = 1500;

function traceReport(systems: { key: string; samples: readonly Sample[] }[]): TraceReport | null {
  const isTrace = (s: Sample) => scenarioOf(s)?.kind === 'trace';
  if (!systems.some((sys) => sys.samples.some(isTrace))) return null;
  const out: TraceReport = { systems: {} };
  for (const sys of systems) {
    const measured = sys.samples.filter((s) => isTrace(s) && isMeasured(s)) as (Sample & { ttft_s: number })[];
    const sorted = measured.map((s) => s.ttft_s).sort((a, b) => a - b);
    const n = sorted.length;
    const step = Math.max(1, Math.ceil(n / MAX_POINTS));
    const cdf: [number, number][] = [];
    for (let i = 0; i < n; i += step) cdf.push([sorted[i]!, (i + 1) / n]);
    if (n > 0 && cdf.at(-1)![1] !== 1) cdf.push([sorted[n - 1]!, 1]);
    const byTime = [...measured].sort((a, b) => a.scheduled_at_s - b.scheduled_at_s);
    const tstep = Math.max(1, Math.ceil(byTime.length / MAX_POINTS));
    const over_time: [number, number][] = [];
    for (let i = 0; i < byTime.length; i += tstep) over_time.push([byTime[i]!.scheduled_at_s, byTime[i]!.ttft_s]);
    out.systems[sys.key] = { n, cdf, over_time };
  }
  return out;
}
