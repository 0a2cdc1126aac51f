/**
 * Length buckets for rows: a trace's requests each have their own prompt length, so grouping by
 * exact length gives a row per request ("fewer than 2 paired requests" everywhere). Buckets are
 * powers of two, [2^k, 2^(k+1)), or a fixed width in tokens (`--bucket N`).
 */
import { ValidationError, type RunResult } from '@kvbench/common';
import { contextLabel } from './format.js';
import { scenarioOf } from './scenarios.js';
import type { CompareOptions, RowPhase } from './types.js';

export interface Bucket {
  low: number;
  high: number;
}

export type Grouping = { kind: 'exact' } | { kind: 'pow2' } | { kind: 'width'; width: number };

/** Explicit choice, else pow2 when any run replays a trace, else exact context sizes. */
export function groupingOf(choice: CompareOptions['bucket'], runs: readonly RunResult[]): Grouping {
  if (choice === 'exact') return { kind: 'exact' };
  if (choice === 'pow2') return { kind: 'pow2' };
  if (typeof choice === 'number') {
    if (!Number.isInteger(choice) || choice <= 0) throw new ValidationError(`bucket: a width in tokens must be a positive integer, got ${choice}`, 'bucket');
    return { kind: 'width', width: choice };
  }
  const trace = runs.some((r) => r.samples.some((s) => scenarioOf(s)?.kind === 'trace'));
  return trace ? { kind: 'pow2' } : { kind: 'exact' };
}

/** "pow2", "exact" or a width in tokens, as the CLI's --bucket and /compare's bucket= take it. */
export function parseBucket(text: string, field = 'bucket'): CompareOptions['bucket'] {
  if (text === 'pow2' || text === 'exact') return text;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new ValidationError(`${field}: 'pow2', 'exact' or a width in tokens, got '${text.slice(0, 40)}'`, field);
  return n;
}

export function bucketOf(tokens: number, g: Grouping): Bucket | null {
  if (g.kind === 'exact') return null;
  if (g.kind === 'width') {
    const low = Math.floor(tokens / g.width) * g.width;
    return { low, high: low + g.width };
  }
  if (tokens < 1) return { low: 0, high: 1 };
  const low = 2 ** Math.floor(Math.log2(tokens));
  return { low, high: low * 2 };
}

export function bucketLabel(b: Bucket): string {
  return `${contextLabel(b.low)}–${contextLabel(b.high)}`;
}

export function bucketScope(b: Bucket, phase: RowPhase): string {
  return phase === 'all' ? `across requests of ${bucketLabel(b)} tokens` : `on ${phase} at ${bucketLabel(b)} tokens`;
}
