import type { LengthSpec } from '@kvbench/common';

/** One draw of a length spec (constant, uniform [min, max], or lognormal with that mean, capped). */
export function drawLength(spec: LengthSpec, random: () => number): number {
  if (typeof spec === 'number') return spec;
  if (spec.dist === 'uniform') return spec.min + Math.floor(random() * (spec.max - spec.min + 1));
  // mean is the distribution's mean: mu = ln(mean) − sigma²/2.
  const mu = Math.log(spec.mean) - (spec.sigma * spec.sigma) / 2;
  const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const x = Math.max(1, Math.round(Math.exp(mu + spec.sigma * z)));
  return spec.max !== undefined ? Math.min(x, spec.max) : x;
}

/** The largest value a spec can give (for limits); lognormal without a cap has none. */
export function maxLength(spec: LengthSpec): number {
  if (typeof spec === 'number') return spec;
  if (spec.dist === 'uniform') return spec.max;
  return spec.max ?? Infinity;
}
