import { Engine, type EngineOptions } from '../src/engine.js';
import { loadProfile, type Profile } from '../src/profile.js';
import { resolveModelShape } from '../src/shapes.js';
import { TimingModel } from '../src/timing.js';

export function makeEngine(over: Partial<EngineOptions> & { profile?: Profile | string; model?: string } = {}): Engine {
  const profile = typeof over.profile === 'object' ? over.profile : loadProfile(over.profile ?? 'h100-pcie-gen5');
  const shape = resolveModelShape(over.model ?? 'meta-llama/Llama-3.1-8B-Instruct');
  const tpb = over.tokensPerBlock ?? 64;
  const opts: EngineOptions = {
    maxBatchSize: 8,
    maxNumTokens: 8192,
    tokensPerBlock: tpb,
    gpuBlocks: 256,
    hostBlocks: 1024,
    enableBlockReuse: true,
    enableChunkedPrefill: true,
    eventBufferMaxSize: 10_000_000,
    windowSize: 131072,
    enableIterPerfStats: true,
    iterStatsMaxIterations: 10_000_000,
    returnPerfMetrics: true,
    perfMetricsMaxRequests: 1_000_000,
    ...over,
  };
  return new Engine(opts, new TimingModel(profile, shape, tpb));
}

/** Run the engine until idle from modelled time t; returns every iteration. */
export function runToIdle(engine: Engine, t = 0) {
  const out = [];
  for (;;) {
    const r = engine.step(t);
    if (!r) break;
    out.push(r);
    t = r.end;
  }
  return out;
}

/** Deterministic tokens: `n` ids from a seed (distinct seeds give distinct prompts). */
export function tokens(seed: number, n: number): Uint32Array {
  const a = new Uint32Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    a[i] = x % 100000;
  }
  return a;
}
