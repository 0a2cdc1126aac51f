/**
 * An example comparison for the API document (Swagger UI): the shape GET /compare answers, cut to
 * one row (8K tokens, reuse) of a simulated PCIe against C2C run of the same workload, with a
 * goodput objective. Llama-3.1-8B's KV (128 KiB a token, 32-token blocks): an 8K prompt onboards
 * 256 blocks, 1 GiB, which takes PCIe 43 ms and C2C 5.5 ms at the profiles' bandwidths.
 */
import { PERCENTILE_METHOD } from '@kvbench/common';

const WORKLOAD_ID = 'wl-ad7674fd8a591885';
const PROFILED = "profiled: the simulator profile's host→GPU bandwidth for one block (kv_pools.h2d_block_gbps)";

const system = (label: string, runId: string) => ({
  key: label,
  label,
  run_id: runId,
  workload_id: WORKLOAD_ID,
  simulated: true,
  clock: 'virtual' as const,
  host_bound: false,
  host_lateness: null,
  null_reasons: {},
});

const rowStats = (ttft: [number, number, number], latency: [number, number, number]) => ({
  n: 16,
  n_failed: 0,
  ttft_s: { p50: ttft[0], p95: ttft[1], p99: ttft[2] },
  latency_s: { p50: latency[0], p95: latency[1], p99: latency[2] },
  throughput_req_per_s: null,
  cache_hit_rate: null,
  offloaded_blocks: null,
  onboarded_blocks: null,
  offload_bandwidth_gbps: null,
});

const breakdownStats = (onboardS: number, ttftS: number) => {
  const parts = { client_wait_s: 0.0002, to_engine_s: 0.0003, engine_queue_s: 0.0011, onboard_s: onboardS, prefill_s: 0.0121, first_token_s: 0.0052, to_client_s: 0.0004 };
  return {
    n: 16,
    n_complete: 16,
    ttft_p50_s: ttftS,
    part_p50_s: parts,
    median_split: { n: 4, ttft_mean_s: ttftS, parts: Object.entries(parts).map(([part, seconds]) => ({ part: part as keyof typeof parts, seconds })) },
    null_reasons: { batch_other_s: 'the engine does not split the first iteration' },
  };
};

const lru = (lookups: number, gpuHits: number, hostHits: number) => ({
  lookups,
  gpu_hits: gpuHits,
  host_hits: hostHits,
  hit_rate: (gpuHits + hostHits) / lookups,
  gpu_hit_rate: gpuHits / lookups,
});

const hitRate = (label: string) => ({
  system: label,
  pools: { tokens_per_block: 32, gpu_blocks: 1536, host_blocks: 4096, source: 'run_meta.kv_pools', null_reasons: {} },
  model: "the workload's prompts and their shared prefixes through a two-tier LRU, requests one after another",
  gpu_only: lru(8192, 0, 0),
  gpu_and_host: lru(8192, 0, 4096),
  infinite: lru(8192, 4096, 0),
  measured: 0.5,
  difference: 0,
  disagrees: false,
  note: 'measured 50.0% agrees with the LRU prediction 50.0% (within 10 points)',
  null_reasons: {},
});

export const EXAMPLE_COMPARISON = {
  baseline: 'pcie',
  systems: [system('pcie', 'run-mfz1k2a0-3f9c2b7d1e'), system('c2c', 'run-mfz1k2b7-8e9f0a1b2c')],
  rows: [
    {
      context_tokens: 8192,
      phase: 'reuse' as const,
      bucket: null,
      systems: { pcie: rowStats([0.0625, 0.0671, 0.0688], [0.2231, 0.2302, 0.2319]), c2c: rowStats([0.0251, 0.0279, 0.0286], [0.1857, 0.1911, 0.1924]) },
      vs_baseline: [
        {
          system: 'c2c',
          baseline: 'pcie',
          paired: 16,
          unpaired: { baseline_only: 0, system_only: 0, failed: 0 },
          metrics: [
            {
              metric: 'ttft_p50' as const,
              name: 'TTFT p50',
              kind: 'paired' as const,
              ratio: 0.402,
              ci_low: 0.391,
              ci_high: 0.414,
              significant: true,
              effect: 1.488,
              meaningful: true,
              verdict: 'C2C TTFT p50 2.49× lower than PCIe on reuse at 8K tokens, 95% CI 2.42–2.56×',
            },
          ],
          evidence: {
            requests: { baseline: 16, system: 16 },
            requests_reloaded: { baseline: 16, system: 16 },
            onboarded_blocks: { baseline: 4096, system: 4096 },
            onboarded_source: 'per-request token tiers (sample.tokens.host_onboarded)',
            link_bound_s: { baseline: 0.0428, system: 0.00547 },
            link_bound_source: { baseline: PROFILED, system: PROFILED },
            link_bound_basis: { requests: 16, kv_tokens: 8192 },
            link_exercised: true,
            parts: [{ part: 'onboard_s' as const, name: 'KV onboard (host → GPU)', baseline_p50_s: 0.0432, system_p50_s: 0.0058, ratio: 0.134, ci_low: 0.131, ci_high: 0.138 }],
            host_bound: false,
            text:
              "blocks onboarded from host: PCIe 4096 (16 of 16 requests reloaded), C2C 4096 (16 of 16 requests reloaded). link bound (median reloaded request's KV / host→GPU bandwidth): PCIe 42.8 ms, C2C 5.47 ms. " +
              'TTFT parts that differ: KV onboard (host → GPU) 43.2 → 5.8 ms (×0.13)',
            null_reasons: {},
          },
        },
      ],
    },
  ],
  method: {
    pairing: 'same request_id on both runs; requests not measured on both are excluded and counted',
    bootstrap: 'paired percentile bootstrap: request ids resampled with replacement, same draw on both sides; ratio of percentiles (other / baseline)',
    resamples: 2000,
    seed: '1',
    confidence: 0.95,
    min_effect: 0.05,
    grouping: 'rows by exact context size (prompt tokens) and phase',
    percentile_method: PERCENTILE_METHOD,
  },
  notes: [],
  breakdown: [
    {
      context_tokens: 8192,
      phase: 'reuse' as const,
      bucket: null,
      systems: { pcie: breakdownStats(0.0432, 0.0625), c2c: breakdownStats(0.0058, 0.0251) },
      vs_baseline: [{ system: 'c2c', baseline: 'pcie', parts: [{ part: 'onboard_s' as const, paired: 16, ratio: 0.134, ci_low: 0.131, ci_high: 0.138 }] }],
    },
  ],
  goodput: {
    slo: { ttft_ms: 50 },
    systems: {
      pcie: { requests: 32, met: 16, share: 0.5, window_s: 9.6, goodput_req_per_s: 1.667 },
      c2c: { requests: 32, met: 32, share: 1, window_s: 8.4, goodput_req_per_s: 3.81 },
    },
    vs_baseline: [{ system: 'c2c', baseline: 'pcie', paired: 32, ratio: 2.286, ci_low: 1.92, ci_high: 2.71, verdict: 'C2C goodput 2.29× higher than PCIe across all requests, 95% CI 1.92–2.71×' }],
  },
  hit_rate: [hitRate('pcie'), hitRate('c2c')],
  settings: [
    { setting: 'system_label', values: ['pcie', 'c2c'], differs: true, identity: true },
    { setting: 'config_module', values: ['config_pcie', 'config_c2c'], differs: true, identity: false },
    { setting: 'kv_config.host_cache_gb', values: ['16', '16'], differs: false, identity: false },
  ],
  scenarios: { multiturn: null, trace: null },
};
