/**
 * The predictor's first LRU (Map insertion order as recency), kept as the reference the O(1) version in
 * src/hit-rate.ts must equal: lru-equivalence.unit.test.ts compares them on random workloads, and
 * bench/hit-rate.bench.mjs times both on the seed workload. Not used by reports: finding the least
 * recent key with `keys().next()` walks past the deleted entries V8 keeps until it rehashes.
 */
import type { BlockRequest, LruResult } from '@kvbench/report';

/** A two-tier LRU over block keys. Map insertion order is recency order: re-inserting makes a key most recent. */
export function simulateLruReference(requests: readonly BlockRequest[], gpuBlocks: number, hostBlocks: number): LruResult {
  const gpu = new Map<string, true>();
  const host = new Map<string, true>();
  let lookups = 0;
  let gpuHits = 0;
  let hostHits = 0;
  const evictTo = (capacity: number) => {
    while (gpu.size > Math.max(capacity, 0)) {
      const victim = gpu.keys().next().value as string;
      gpu.delete(victim);
      if (hostBlocks > 0) {
        host.set(victim, true);
        while (host.size > hostBlocks) host.delete(host.keys().next().value as string);
      }
    }
  };
  const touchGpu = (k: string) => {
    gpu.delete(k);
    gpu.set(k, true);
    evictTo(gpuBlocks);
  };
  for (const r of requests) {
    lookups += r.lookups;
    let matching = true;
    for (const k of r.blocks) {
      if (matching && gpu.has(k)) gpuHits++;
      else if (matching && host.has(k)) {
        hostHits++;
        host.delete(k);
      } else {
        matching = false;
        host.delete(k); // recomputed: one copy of a block, on the GPU
      }
      touchGpu(k);
    }
    // Its private blocks push cached ones out while it runs; their slots are empty again after.
    if (r.privateBlocks) evictTo(gpuBlocks - r.privateBlocks);
  }
  return {
    lookups,
    gpu_hits: gpuHits,
    host_hits: hostHits,
    hit_rate: lookups === 0 ? null : (gpuHits + hostHits) / lookups,
    gpu_hit_rate: lookups === 0 ? null : gpuHits / lookups,
  };
}
