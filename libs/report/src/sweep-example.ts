/**
 * An example sweep report for the API document (Swagger UI): one point of each kind, PCIe against
 * C2C on the simulator's shipped profiles, Llama-3.1-8B's KV (128 KiB a token, 32-token blocks).
 */

const replays = (medianS: number, lowS: number, highS: number, engineS: number) => ({
  n: 3,
  valid: 3,
  ttft_median_s: medianS,
  ci_low_s: lowS,
  ci_high_s: highS,
  engine_first_token_median_s: engineS,
  invalid_reasons: [],
});

const side = (runId: string, ttftS: number, onboarded: number, reused: number, engineS: number) => ({
  run_id: runId,
  ttft_s: ttftS,
  valid: true,
  invalid_reason: null,
  onboarded_blocks: onboarded,
  reused_blocks: reused,
  engine_first_token_s: engineS,
  host_bound: false,
});

const PROFILED = "profiled: the simulator profile's host→GPU bandwidth for one block (kv_pools.h2d_block_gbps)";

const SIMULATED_VIRTUAL = {
  simulated: 'all' as const,
  clock: 'virtual' as const,
  note:
    "SIMULATED: the kvbench engine simulator's model of these systems, not a measurement on them. On the virtual clock a replay is the same model run again (same seed, nothing sleeps), " +
    'so replays agree exactly and an interval is zero-width: it shows that the model gave one answer, not how hardware would vary.',
};

export const EXAMPLE_SWEEP_REPORT = {
  capacity: {
    sweep_id: 'sw-capacity-20261206T180000-k3m9',
    baseline: 'pcie',
    systems: ['pcie', 'c2c'],
    provenance: SIMULATED_VIRTUAL,
    tiers: { pcie: { G: 49_152, GH: 180_224 }, c2c: { G: 49_152, GH: 180_224 } },
    points: [
      {
        point: '2G',
        working_set_tokens: 98_304,
        working_set_gib: 12,
        systems: {
          pcie: { run_id: 'run-mfz1k2b4-1c2d3e4f5a', n: 48, ttft_p50_s: 0.118, ttft_p90_s: 0.164, hit_rate: 0.93 },
          c2c: { run_id: 'run-mfz1k2c9-6b7c8d9e0f', n: 48, ttft_p50_s: 0.047, ttft_p90_s: 0.069, hit_rate: 0.93 },
        },
        vs_baseline: [{ system: 'c2c', paired: 48, ratio: 0.398, ci_low: 0.371, ci_high: 0.426 }],
      },
    ],
  },
  offload: {
    sweep_id: 'sw-offload-20261206T181500-p2x7',
    baseline: 'pcie',
    systems: ['pcie', 'c2c'],
    provenance: SIMULATED_VIRTUAL,
    points: [
      {
        prompt_tokens: 8192,
        vs_baseline: [{ system: 'c2c', baseline: 'pcie', ratio: 0.337, ci_low: 0.318, ci_high: 0.356 }],
        systems: {
          pcie: {
            offload: side('run-mfz1k3e1-a1b2c3d4e5', 0.0623, 256, 0, 0.0587),
            recompute: side('run-mfz1k3f2-f6a7b8c9d0', 0.481, 0, 0, 0.476),
            offload_replays: replays(0.0621, 0.0614, 0.0633, 0.0585),
            recompute_replays: replays(0.4805, 0.4791, 0.4822, 0.4758),
            flags: [],
            kv_bytes: 1_073_741_824,
            bandwidth_gbps: 25.1,
            bandwidth_source: PROFILED,
            link_bound_s: 0.0428,
            speedup: 7.74,
            null_reasons: {},
          },
          c2c: {
            offload: side('run-mfz1k3g3-0e1f2a3b4c', 0.0211, 256, 0, 0.0176),
            recompute: side('run-mfz1k3h4-5d6e7f8a9b', 0.4798, 0, 0, 0.4751),
            offload_replays: replays(0.0209, 0.0203, 0.0216, 0.0174),
            recompute_replays: replays(0.4799, 0.4786, 0.4815, 0.4752),
            flags: [],
            kv_bytes: 1_073_741_824,
            bandwidth_gbps: 196.4,
            bandwidth_source: PROFILED,
            link_bound_s: 0.00547,
            speedup: 22.96,
            null_reasons: {},
          },
        },
      },
    ],
  },
};
