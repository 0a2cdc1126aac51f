import { z } from 'zod';

/**
 * Link and GPU telemetry of a run (issue 23): what the hardware counted over the run window,
 * beside what the engine reported. Sampled by @kvbench/telemetry in the host agent and in
 * `kvbench bench`; the simulator's series come from its model and are labelled simulated.
 */

const nn = z.number().nullable();

/** Where a run's telemetry came from (tried in this order: dcgm, nvml, nvidia-smi; sim for the simulator). */
export const TelemetrySourceKind = z.enum(['dcgm', 'nvml', 'nvidia-smi', 'sim', 'none']);
export type TelemetrySourceKind = z.infer<typeof TelemetrySourceKind>;

/**
 * One period of one GPU. Byte figures are what crossed the link during the period
 * (`dt_s` long, ending at `t_s` seconds after the run's start, the same origin as samples'
 * `scheduled_at_s`); gauges are the reading at its end. tx = sent by the GPU (device→host,
 * offload direction), rx = received by the GPU (host→device, onboard direction).
 * A null is a counter this source or machine lacks: the run's `telemetry.null_reasons` says why.
 */
export const TelemetryPoint = z
  .object({
    gpu: z.number().int().nonnegative(),
    t_s: z.number(),
    dt_s: z.number().nonnegative(),
    pcie_tx_bytes: nn,
    pcie_rx_bytes: nn,
    c2c_tx_bytes: nn,
    c2c_rx_bytes: nn,
    util_pct: nn,
    sm_clock_mhz: nn,
    power_w: nn,
    /** Energy the GPU used during the period (from its energy counter where there is one, else power × dt). */
    energy_j: nn,
    mem_used_bytes: nn,
  })
  .strict();
export type TelemetryPoint = z.infer<typeof TelemetryPoint>;

/** What a source says about one GPU: identity, and per counter how it is read or why it is null. */
export const TelemetryGpu = z
  .object({
    index: z.number().int().nonnegative(),
    name: z.string().nullable(),
    uuid: z.string().nullable(),
  })
  .loose();

/** The run's telemetry in results (`results.telemetry`) and in the final `telemetry` event. */
export const TelemetrySummary = z
  .object({
    source: TelemetrySourceKind,
    /** Exactly how the source was read (URL, command, library versions). */
    source_detail: z.string(),
    /** Sources tried before this one, each with why it was not used. */
    tried: z.array(z.object({ source: TelemetrySourceKind, reason: z.string() })),
    /** true for the simulator's modelled series: never a hardware reading. */
    simulated: z.boolean(),
    gpus: z.array(TelemetryGpu),
    period_ms_requested: z.number().positive(),
    /** Median spacing of the points actually taken (null with fewer than two). */
    period_ms_achieved: nn,
    points: z.number().int().nonnegative(),
    /** Seconds covered by the series (first point's start → last point's end). */
    window_s: nn,
    /** Sums over every GPU and point; null when the counter is missing (reason in null_reasons). */
    totals: z.object({
      pcie_tx_bytes: nn,
      pcie_rx_bytes: nn,
      c2c_tx_bytes: nn,
      c2c_rx_bytes: nn,
      energy_j: nn,
    }),
    /**
     * Offload/onboard figures from the link alone, labelled link-level: everything that crossed
     * the link in that direction during the run (weights, activations, other processes too),
     * not only KV blocks. On an engine without offload counters these are the offload figures.
     */
    link_level: z.object({
      /** 'pcie' or 'c2c': which link's counters these come from. */
      link: z.enum(['pcie', 'c2c']).nullable(),
      offload_bytes: nn,
      onboard_bytes: nn,
      /** Bytes over the seconds of the periods that carried any traffic in that direction. */
      offload_gbps: nn,
      onboard_gbps: nn,
      /** Highest single-period throughput in that direction. */
      peak_offload_gbps: nn,
      peak_onboard_gbps: nn,
    }),
    /** The engine's own offloaded/onboarded bytes (log_metrics) beside the link's, and their ratio. */
    versus_engine: z.object({
      engine_offloaded_bytes: nn,
      engine_onboarded_bytes: nn,
      /** link bytes / engine bytes. */
      offload_ratio: nn,
      onboard_ratio: nn,
      /** Ratios outside [1 - tolerance, 1 + tolerance] are flagged. */
      tolerance: z.number(),
      /** Each disagreement in words; empty when they agree or cannot be compared (see null_reasons). */
      disagreements: z.array(z.string()),
    }),
    energy_per_request_j: nn,
    energy_per_output_token_j: nn,
    peak_mem_used_bytes: nn,
    mean_power_w: nn,
    /** Why each null figure above is null. */
    null_reasons: z.record(z.string(), z.string()),
  })
  .loose();
export type TelemetrySummary = z.infer<typeof TelemetrySummary>;

/** TelemetryPoint's fields in a fixed order: SQLite columns and CSV columns. */
export const TELEMETRY_COLUMNS = [
  'gpu',
  't_s',
  'dt_s',
  'pcie_tx_bytes',
  'pcie_rx_bytes',
  'c2c_tx_bytes',
  'c2c_rx_bytes',
  'util_pct',
  'sm_clock_mhz',
  'power_w',
  'energy_j',
  'mem_used_bytes',
] as const satisfies readonly (keyof TelemetryPoint)[];

/** A telemetry series as CSV text: TELEMETRY_COLUMNS as the header, one row per point, a null as an empty cell.
 *  The aggregator's /runs/:id/telemetry.csv and `kvbench bench`'s telemetry file both write this. */
export function telemetryCsv(points: Iterable<TelemetryPoint>): string {
  const lines = [TELEMETRY_COLUMNS.join(',')];
  for (const p of points) lines.push(TELEMETRY_COLUMNS.map((c) => (p[c] === null ? '' : String(p[c]))).join(','));
  return lines.join('\n') + '\n';
}
