import seedrandom from 'seedrandom';
import type { LogMetrics, RunResult, Sample } from '@kvbench/common';
import { successfulSample as sample } from '@kvbench/testkit';

/** The successful sample fixture, one literal in @kvbench/testkit that the CLI's tests use too. */
export { sample };

export const logMetrics = (o: Partial<LogMetrics> = {}): LogMetrics => ({
  cache_hit_rate: 0.5,
  reused_blocks: 100,
  offloaded_blocks: 40,
  observed_offload_bandwidth_gbps: 20,
  onboarded_blocks: 30,
  sources: {},
  null_reasons: {},
  ...o,
});

export function run(label: string, runId: string, samples: Sample[], meta: Record<string, unknown> = {}, lm: Partial<LogMetrics> = {}): RunResult {
  return {
    aggregate: {
      throughput_req_per_s: null,
      ttft_p50_s: null,
      ttft_p95_s: null,
      ttft_p99_s: null,
      latency_p50_s: null,
      latency_p95_s: null,
      latency_p99_s: null,
    },
    log_metrics: logMetrics(lm),
    samples,
    run_meta: {
      run_id: runId,
      attempt: 1,
      system_label: label,
      model: 'test-model',
      workload_id: 'wl-1',
      simulated: true,
      percentile_method: 'linear',
      ...meta,
    },
  };
}

/** Standard normal from a uniform generator (Box–Muller). */
export function normal(rng: () => number): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

export interface SyntheticOptions {
  n: number;
  /** True ratio of medians, B / A. */
  ratio: number;
  /** Log-sd of A's TTFT across requests. */
  sigma?: number;
  /** Log-sd of B's per-request noise around A × ratio. */
  noise?: number;
  seed: string;
  contexts?: number[];
}

/**
 * Two runs of the same workload: A's TTFTs are log-normal; B = A × ratio × exp(N(0, noise)).
 * log B is then normal with median log(median A) + log(ratio), so the population
 * ratio of medians is exactly `ratio`.
 */
export function syntheticPair(o: SyntheticOptions): [RunResult, RunResult] {
  const rng = seedrandom(o.seed);
  const sigma = o.sigma ?? 0.6;
  const noise = o.noise ?? 0.2;
  const contexts = o.contexts ?? [1024];
  const a: Sample[] = [];
  const b: Sample[] = [];
  for (let i = 0; i < o.n; i++) {
    const ctx = contexts[i % contexts.length]!;
    const phase = i % 3 === 0 ? 'cold' : 'reuse';
    const ta = 0.2 * Math.exp(sigma * normal(rng));
    const tb = ta * o.ratio * Math.exp(noise * normal(rng));
    const common = { request_id: `r${String(i).padStart(5, '0')}`, context_tokens: ctx, phase, scheduled_at_s: i * 0.1, batch_index: i } as const;
    a.push(sample({ ...common, ttft_s: ta, latency_s: ta + 0.1 }));
    b.push(sample({ ...common, ttft_s: tb, latency_s: tb + 0.1 }));
  }
  return [run('pcie', `a-${o.seed}`, a), run('c2c', `b-${o.seed}`, b)];
}

/**
 * A PCIe run and a C2C run shaped like the real question (for rendering tests
 * only; the numbers are invented): cold TTFT grows with context on both,
 * reuse TTFT is dominated by reloading the prefix, which C2C does faster.
 */
export function shapedPair(seed = 'shaped', perCell = 24): [RunResult, RunResult] {
  const rng = seedrandom(seed);
  const contexts = [8192, 32768, 65536];
  const a: Sample[] = [];
  const b: Sample[] = [];
  let t = 0;
  let i = 0;
  for (const ctx of contexts) {
    for (const phase of ['cold', 'reuse'] as const) {
      for (let k = 0; k < perCell; k++, i++) {
        t += 0.05 + rng() * 0.1;
        const prefill = (ctx / 8192) * 0.09;
        const noise = () => Math.exp(0.15 * normal(rng));
        const ta = (phase === 'cold' ? prefill : 0.02 + (ctx / 8192) * 0.03) * noise();
        const tb = (phase === 'cold' ? prefill * 1.02 : 0.02 + (ctx / 8192) * 0.008) * noise();
        const id = { request_id: `${ctx}-${phase}-${k}`, context_tokens: ctx, phase, scheduled_at_s: t, batch_index: i } as const;
        a.push(sample({ ...id, ttft_s: ta, latency_s: ta + 0.3 * noise() }));
        b.push(sample({ ...id, ttft_s: tb, latency_s: tb + 0.3 * noise() }));
      }
    }
  }
  const env = { host: 'test-host', gpu: 'none (simulator)', node: process.version };
  return [
    run('pcie', 'run-pcie-1', a, { engine: { kind: 'sim', options: { link: 'h100-pcie-gen5' } }, kv_config: { max_tokens: 4096, tokens_per_block: 64, host_cache_size: 34359738368 }, environment: env }, { cache_hit_rate: 0.42, offloaded_blocks: 1800, onboarded_blocks: 1300, observed_offload_bandwidth_gbps: 24.5 }),
    run('c2c', 'run-c2c-1', b, { engine: { kind: 'sim', options: { link: 'gh200-c2c' } }, kv_config: { max_tokens: 2048, tokens_per_block: 64, host_cache_size: 68719476736 }, environment: env }, { cache_hit_rate: 0.44, offloaded_blocks: 2100, onboarded_blocks: 1500, observed_offload_bandwidth_gbps: 310 }),
  ];
}

/**
 * shapedPair with a TTFT breakdown in every sample (parts summing to its TTFT), token tiers, the
 * KV pools in run_meta and a hit rate the engine "measured" (invented numbers, for rendering tests):
 * reuse requests spend their first token onboarding KV, C2C onboards faster.
 */
export function breakdownPair(seed = 'breakdown', perCell = 12): [RunResult, RunResult] {
  const pair = shapedPair(seed, perCell);
  pair.forEach((run, ri) => {
    for (const s of run.samples) {
      // Reuse requests repeat the cold ones' prompts (k-th cold and k-th reuse of a context).
      s.prompt_id = `${s.context_tokens}-${s.request_id.split('-').at(-1)}`;
      const t = s.ttft_s!;
      const client = 0.0008;
      const toEngine = 0.0004;
      const toClient = 0.0003;
      const queue = 0.05 * t;
      const first = t - client - toEngine - toClient - queue;
      const onboard = s.phase === 'reuse' ? first * (ri === 0 ? 0.7 : 0.35) : 0;
      const prefill = (first - onboard) * 0.9;
      s.breakdown = {
        client_wait_s: client, to_engine_s: toEngine, engine_queue_s: queue, first_token_s: first, to_client_s: toClient,
        onboard_s: onboard, prefill_s: prefill, batch_other_s: first - onboard - prefill,
        clock: 'same host', joined_by: 'id', null_reasons: {},
      };
      const P = s.prompt_tokens_client;
      s.tokens = s.phase === 'reuse' ? { gpu_hit: 0, host_onboarded: P - 1, recomputed: 1, cached: P - 1, source: 'test', null_reasons: {} } : { gpu_hit: 0, host_onboarded: 0, recomputed: P, cached: 0, source: 'test', null_reasons: {} };
    }
    Object.assign(run.run_meta, { kv_pools: { gpu_blocks: ri === 0 ? 64 : 32, host_blocks: ri === 0 ? 4096 : 8192, tokens_per_block: 64, block_bytes: 8388608, source: 'test' } });
  });
  return pair;
}

/**
 * Two runs of a multi-turn workload (invented numbers, for report tests): `sessions` sessions of
 * `turns` turns, tagged as issue-14's scheduler tags them; a turn's prompt grows with the history;
 * from turn 2 on most of it is cached, C2C reloads it faster. Plus a trace-tagged copy when asked.
 */
export function multiturnPair(sessions = 8, turns = 5, kind: 'multiturn' | 'trace' = 'multiturn'): [RunResult, RunResult] {
  const rng = seedrandom(`multiturn-${kind}`);
  const a: Sample[] = [];
  const b: Sample[] = [];
  let t = 0;
  for (let turn = 1; turn <= turns; turn++) {
    for (let s = 0; s < sessions; s++, t += 0.2) {
      const prompt = 2048 * turn;
      const cached = turn === 1 ? 0 : 2048 * (turn - 1);
      const noise = () => Math.exp(0.1 * normal(rng));
      const ta = (0.02 + (prompt - cached) * 2e-5 + cached * 6e-6) * noise();
      const tb = (0.02 + (prompt - cached) * 2e-5 + cached * 1.5e-6) * noise();
      const scenario = kind === 'multiturn' ? { kind, session_id: `s${s}`, turn, release: 'completion' as const } : { kind, trace_line: turn * sessions + s + 1, release: 'time' as const };
      const common = { request_id: `s${s}-t${turn}`, prompt_id: `s${s}-t${turn}`, context_tokens: prompt, prompt_tokens_client: prompt, prompt_tokens_server: prompt, cached_tokens: cached, phase: turn === 1 ? 'cold' : 'reuse', scheduled_at_s: t, batch_index: 0, scenario } as const;
      a.push(sample({ ...common, ttft_s: ta, latency_s: ta + 0.2 }));
      b.push(sample({ ...common, ttft_s: tb, latency_s: tb + 0.2 }));
    }
  }
  return [run('pcie', `mt-pcie-${kind}`, a), run('c2c', `mt-c2c-${kind}`, b)];
}

/**
 * The runs of a capacity sweep and of an offload sweep as issue-14's `kvbench sweep` records them
 * (run_meta.workload.{kind, sweep, params}, sample.scenario), with invented figures.
 * Capacity: 4096-token documents, PCIe G = 8192 / H = 32768 tokens, C2C G = 4096 / H = 65536.
 * Offload: per length an offload run and a recompute run (host_cache_gb 0) per system; the onboard
 * bandwidth measured 25 GB/s on PCIe, 300 GB/s on C2C; 64-token blocks of 8 MiB.
 */
export function sweepRuns(): RunResult[] {
  const out: RunResult[] = [];
  const pools = { pcie: { gpu_blocks: 128, host_blocks: 512 }, c2c: { gpu_blocks: 64, host_blocks: 1024 } } as const;
  const tiers = { pcie: [8192, 40960], c2c: [4096, 69632] } as const;
  for (const docs of [1, 2, 4, 8, 16, 24]) {
    const ws = docs * 4096;
    for (const label of ['pcie', 'c2c'] as const) {
      const [G, GH] = tiers[label];
      // Reused from GPU below G, reloaded from host up to G + H (slower on PCIe), recomputed beyond.
      const per = ws <= G ? 0.02 : ws <= GH ? (label === 'pcie' ? 0.12 : 0.04) : 0.5;
      const hit = ws <= GH ? 0.9 : 0.1;
      const samples: Sample[] = [];
      for (let round = 1; round <= 2; round++)
        for (let d = 0; d < docs; d++) {
          const ttft = round === 1 ? 0.5 : per * (1 + 0.05 * ((d * 7) % 5));
          samples.push(sample({ request_id: `r${round}-d${d}`, prompt_id: `d${d}`, context_tokens: 4096, prompt_tokens_client: 4160, ttft_s: ttft, latency_s: ttft + 0.1, scheduled_at_s: round * 10 + d, phase: round === 1 ? 'cold' : 'reuse', scenario: { kind: 'docqa', document_id: `d${d}`, round, sweep_id: 'sw-cap', sweep_point: `${docs}docs` } } as never));
        }
      out.push(run(label, `cap-${label}-${docs}`, samples, {
        kv_pools: { ...pools[label], tokens_per_block: 64, block_bytes: 8388608, source: 'test' },
        kv_config: { gpu_kv_max_tokens: G, tokens_per_block: 64, host_cache_gb: label === 'pcie' ? 4 : 8, enable_reuse: true },
        workload: { kind: 'docqa', sweep: { id: 'sw-cap', point: `${docs}docs` }, params: { documents: docs, document_tokens: 4096 } },
      }, { cache_hit_rate: hit }));
    }
  }
  for (const len of [1024, 4096, 16384]) {
    for (const label of ['pcie', 'c2c'] as const) {
      for (const host of [label === 'pcie' ? 4 : 8, 0]) {
        const blocks = len / 64;
        const bw = label === 'pcie' ? 25 : 300;
        const onboard = (blocks * 8388608) / (bw * 1e9) + 0.01;
        const recompute = 0.02 + len * 2e-5;
        const replay = host === 0 ? recompute : onboard;
        const samples = [
          sample({ request_id: 'cold', ttft_s: recompute, context_tokens: len, prompt_tokens_client: len, scenario: { kind: 'offload', step: 'cold' } } as never),
          sample({ request_id: 'evict-0', ttft_s: 0.3, context_tokens: 8000, prompt_tokens_client: 8000, scheduled_at_s: 1, scenario: { kind: 'offload', step: 'evict' } } as never),
          sample({ request_id: 'replay', ttft_s: replay, context_tokens: len, prompt_tokens_client: len, scheduled_at_s: 2, phase: 'reuse', scenario: { kind: 'offload', step: 'replay' } } as never),
        ];
        // The PCIe offload run at 16K keeps 4 blocks on the GPU: its replay does not count.
        const gpuHits = label === 'pcie' && len === 16384 && host > 0 ? 4 : 0;
        const lm = host === 0 ? { reused_blocks: 0, onboarded_blocks: 0, observed_onboard_bandwidth_gbps: null } : { reused_blocks: blocks, onboarded_blocks: blocks - gpuHits, observed_onboard_bandwidth_gbps: bw };
        out.push(run(label, `off-${label}-${len}-${host}`, samples, {
          kv_pools: { gpu_blocks: 512, host_blocks: 4096, tokens_per_block: 64, block_bytes: 8388608, source: 'test' },
          kv_config: { gpu_kv_max_tokens: 32768, tokens_per_block: 64, host_cache_gb: host, enable_reuse: true },
          workload: { kind: 'offload', sweep: { id: 'sw-off', point: String(len) }, params: { prompt_tokens: len } },
        }, lm));
      }
    }
  }
  return out;
}
