import seedrandom from 'seedrandom';
import { ValidationError } from '@kvbench/common';

export interface ArrivalSpec {
  arrival: 'closed' | 'poisson' | 'gamma';
  rate?: number | undefined;
  burstiness: number;
}

/**
 * Release times (ms from the run's start) of `n` requests, as vLLM's `bench serve` draws them
 * (benchmarks/serve.py, get_request): each gap is gamma(shape b, scale 1/(rate·b)) (b = 1 is
 * Poisson), the first request included, then all are rescaled so the last lands at n/rate: the
 * offered rate is exact whatever the seed. `closed`: everything at 0 (the concurrency cap paces it).
 */
export function arrivalTimesMs(n: number, spec: ArrivalSpec, seed: number): number[] {
  if (spec.arrival === 'closed') return new Array<number>(n).fill(0);
  if (spec.rate === undefined) throw new ValidationError(`rate: required for --arrival ${spec.arrival}`, 'rate');
  const shape = spec.arrival === 'poisson' ? 1 : spec.burstiness;
  const random = seedrandom(`kvbench/arrivals/${seed}`);
  const gamma = gammaSampler(shape, 1 / (spec.rate * shape), random);
  const t: number[] = [];
  let sum = 0;
  for (let i = 0; i < n; i++) t.push((sum += gamma()));
  const factor = sum > 0 ? n / spec.rate / sum : 0;
  return t.map((s) => s * factor * 1000);
}

/** Marsaglia and Tsang's method (shape < 1 by the boost x·U^(1/shape)). */
export function gammaSampler(shape: number, scale: number, random: () => number): () => number {
  const normal = () => {
    // Box-Muller; 1 - random() keeps log away from 0.
    const u = 1 - random();
    const v = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const draw = (k: number): number => {
    const d = k - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = 1 - random();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  if (shape >= 1) return () => draw(shape) * scale;
  return () => draw(shape + 1) * Math.pow(1 - random(), 1 / shape) * scale;
}
