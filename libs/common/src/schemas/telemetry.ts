import { z } from 'zod';
import { EXAMPLE_TELEMETRY_POINT, EXAMPLE_TELEMETRY_SUMMARY } from './telemetry-examples.js';

/**
 * Link and GPU telemetry of a run (issue 23): what the hardware counted over the run window,
 * beside what the engine reported. Sampled by @kvbench/telemetry in the host agent and in
 * `kvbench bench`; the simulator's series come from its model and are labelled simulated.
 */

const nn = z.number().nullable();

/** Where a run's telemetry came from (tried in this order: dcgm, nvml, nvidia-smi; sim for the simulator). */
export const TelemetrySourceKind = z
  .enum(['dcgm', 'nvml', 'nvidia-smi', 'sim', 'none'])
  .describe("dcgm (DCGM exporter), nvml (NVML library), nvidia-smi (its CSV query), sim (the simulator's model, never hardware) or none (no source worked)");
export type TelemetrySourceKind = z.infer<typeof TelemetrySourceKind>;

const bytes = (what: string) => nn.describe(`${what}; null when this source or machine lacks the counter (reason in the summary's null_reasons)`);
const gbps = (what: string) => nn.describe(`${what} (GB/s, 10^9 bytes per second); null when the counter is missing or nothing moved`);

/**
 * One period of one GPU. Byte figures are what crossed the link during the period
 * (`dt_s` long, ending at `t_s` seconds after the run's start, the same origin as samples'
 * `scheduled_at_s`); gauges are the reading at its end. tx = sent by the GPU (device→host,
 * offload direction), rx = received by the GPU (host→device, onboard direction).
 * A null is a counter this source or machine lacks: the run's `telemetry.null_reasons` says why.
 */
export const TelemetryPoint = z
  .object({
    gpu: z.number().int().nonnegative().describe('GPU index on its host (as nvidia-smi numbers it)'),
    t_s: z.number().describe("end of the period, seconds after the run's start (the origin of samples' scheduled_at_s)"),
    dt_s: z.number().nonnegative().describe('length of the period (s)'),
    pcie_tx_bytes: bytes('PCIe bytes sent by the GPU during the period (device→host: the offload direction)'),
    pcie_rx_bytes: bytes('PCIe bytes received by the GPU during the period (host→device: the onboard direction)'),
    c2c_tx_bytes: bytes('NVLink-C2C bytes sent by the GPU during the period (offload direction; Grace Hopper only)'),
    c2c_rx_bytes: bytes('NVLink-C2C bytes received by the GPU during the period (onboard direction; Grace Hopper only)'),
    util_pct: nn.describe('GPU utilisation at the end of the period (%, 0–100)'),
    sm_clock_mhz: nn.describe('SM clock at the end of the period (MHz)'),
    power_w: nn.describe('board power draw at the end of the period (W)'),
    // From the GPU's energy counter where there is one, else power × dt.
    energy_j: nn.describe("energy the GPU used during the period (J): its energy counter's difference where it has one, else power_w × dt_s"),
    mem_used_bytes: nn.describe('GPU memory in use at the end of the period (bytes)'),
  })
  .strict()
  .meta({ id: 'TelemetryPoint', examples: [EXAMPLE_TELEMETRY_POINT] });
export type TelemetryPoint = z.infer<typeof TelemetryPoint>;

/** What a source says about one GPU: identity, and per counter how it is read or why it is null. */
export const TelemetryGpu = z
  .object({
    index: z.number().int().nonnegative().describe('GPU index on its host'),
    name: z.string().nullable().describe('product name, e.g. "NVIDIA GH200 480GB"; null when the source does not say'),
    uuid: z.string().nullable().describe('GPU UUID (GPU-…); null when the source does not say'),
    pci_bus_id: z.string().nullable().optional().describe('PCI address as the source gives it (00000000:00:06.0); null or absent when it does not say'),
    pcie_framing: z
      .object({
        bus_id: z.string().describe('the PCI address its config space was read at (sysfs form)'),
        max_payload_bytes: z.number().int().positive().describe('Max_Payload_Size in effect (Device Control): the data bytes one TLP carries at most'),
        max_read_request_bytes: z.number().int().positive().describe('Max_Read_Request_Size in effect (Device Control)'),
        max_payload_supported_bytes: z.number().int().positive().describe('Max_Payload_Size the device supports (Device Capabilities)'),
        source: z.string().describe('where it was read (the sysfs config file)'),
      })
      .nullable()
      .optional()
      .describe("the PCIe framing that decides how many of the counted bytes are payload; null when it could not be read (reason in pcie_framing_null_reason)"),
    pcie_framing_null_reason: z.string().optional().describe('why pcie_framing is null'),
  })
  .loose();

/** The run's telemetry in results (`results.telemetry`) and in the final `telemetry` event. */
export const TelemetrySummary = z
  .object({
    source: TelemetrySourceKind,
    source_detail: z.string().describe('exactly how the source was read (URL, command, library versions)'),
    tried: z
      .array(z.object({ source: TelemetrySourceKind, reason: z.string().describe('why this source was not used') }))
      .describe('sources tried before this one, in order, each with why it was not used'),
    simulated: z.boolean().describe("true for the simulator's modelled series: never a hardware reading"),
    gpus: z.array(TelemetryGpu).describe('the GPUs sampled'),
    period_ms_requested: z.number().positive().describe('sampling period asked for (ms)'),
    period_ms_achieved: nn.describe('median spacing of successive points of the same GPU (ms); null with fewer than two'),
    points: z.number().int().nonnegative().describe('points in the series (periods × GPUs)'),
    window_s: nn.describe("seconds covered by the series (first point's start → last point's end); null without points"),
    totals: z
      .object({
        pcie_tx_bytes: bytes('PCIe bytes sent by the GPUs over the run'),
        pcie_rx_bytes: bytes('PCIe bytes received by the GPUs over the run'),
        c2c_tx_bytes: bytes('NVLink-C2C bytes sent by the GPUs over the run'),
        c2c_rx_bytes: bytes('NVLink-C2C bytes received by the GPUs over the run'),
        energy_j: nn.describe('energy of every GPU over the run (J); null when no energy or power reading'),
      })
      .describe('sums over every GPU and point; a null counter is missing (reason in null_reasons)'),
    link_level: z
      .object({
        link: z.enum(['pcie', 'c2c']).nullable().describe("which link's counters these come from: c2c where the machine has it and it carried traffic, else pcie; null when neither was read"),
        offload_bytes: bytes('bytes the GPUs sent over that link during the run (device→host)'),
        onboard_bytes: bytes('bytes the GPUs received over that link during the run (host→device)'),
        offload_gbps: gbps('achieved offload bandwidth: bytes over the seconds of the busy periods (those moving at least 5% of the peak period\'s rate), so idle periods do not dilute it'),
        onboard_gbps: gbps('achieved onboard bandwidth, over the busy periods as offload_gbps'),
        peak_offload_gbps: gbps('highest single-period offload throughput'),
        peak_onboard_gbps: gbps('highest single-period onboard throughput'),
        payload: z
          .object({
            offload_bytes: z.number().nonnegative().describe('data bytes inside offload_bytes: the counted bytes less the TLP headers and framing (device→host)'),
            onboard_bytes: z.number().nonnegative().describe('data bytes inside onboard_bytes (host→device)'),
            offload_gbps: gbps("achieved offload bandwidth of the payload, over its busy periods as link_level.offload_gbps (the counted sends include a host→device copy's read requests, so the counted figure is diluted by those periods)"),
            onboard_gbps: gbps('achieved onboard bandwidth of the payload, over its busy periods'),
            max_payload_bytes: z.array(z.number().int().positive()).describe("each GPU's Max_Payload_Size the estimate used"),
            model: z.string().describe('how the payload was estimated from the counted bytes, with its assumptions'),
          })
          .nullable()
          .optional()
          .describe(
            "an estimate of the payload inside the PCIe counters' bytes, which include every TLP's header and framing (about 8–9% at a 256-byte Max_Payload_Size); " +
              'null when a GPU\'s framing could not be read, on C2C, and for the simulator, whose series is payload already (reason in null_reasons["link_level.payload"])',
          ),
      })
      .describe(
        'offload/onboard figures from the link alone, labelled link-level: everything that crossed the link in that direction ' +
          'during the run (weights, activations, other processes too), not only KV blocks. On an engine without offload counters these are the offload figures.',
      ),
    versus_engine: z
      .object({
        engine_offloaded_bytes: nn.describe("the engine's own offloaded KV bytes (log_metrics.offloaded_bytes); null when the engine does not report them"),
        engine_onboarded_bytes: nn.describe("the engine's own onboarded KV bytes (log_metrics.onboarded_bytes); null when the engine does not report them"),
        basis: z
          .enum(['payload', 'counted'])
          .optional()
          .describe("which link figure the ratios divide: 'payload' (link_level.payload, headers taken off) where it exists, else 'counted' (link_level's bytes as counted)"),
        offload_ratio: nn.describe('link offload bytes (on `basis`) / engine offloaded bytes; null when either is unknown or the engine moved nothing'),
        onboard_ratio: nn.describe('link onboard bytes (on `basis`) / engine onboarded bytes; null when either is unknown or the engine moved nothing'),
        tolerance: z.number().describe('ratios outside [1 − tolerance, 1 + tolerance] are flagged as disagreements (fraction, default 0.1 = 10%)'),
        disagreements: z.array(z.string()).describe('each disagreement in words; empty when they agree or cannot be compared (see null_reasons)'),
      })
      .describe("the engine's own offloaded/onboarded bytes beside the link's, and their ratio"),
    energy_per_request_j: nn.describe('GPU energy over the run / requests that finished ok (J); null without energy or requests'),
    energy_per_output_token_j: nn.describe('GPU energy over the run / output tokens generated (J); null without energy or tokens'),
    peak_mem_used_bytes: nn.describe('each GPU\'s highest memory in use, summed over the GPUs (bytes)'),
    mean_power_w: nn.describe('time-weighted mean board power per GPU × the number of GPUs (W)'),
    null_reasons: z.record(z.string(), z.string()).describe('why each null figure above is null, keyed by its field name (dotted for nested ones)'),
  })
  .loose()
  .meta({ id: 'TelemetrySummary', examples: [EXAMPLE_TELEMETRY_SUMMARY] });
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

/** Most points per GPU a results file or a report page carries: a long run at 100 ms (the seed workload in
 *  virtual time: 136,941 modelled periods, 55 MB of JSON per run) is merged down to about this many. */
export const SERIES_POINTS_PER_GPU = 4000;

/**
 * The same series with runs of consecutive periods merged, at most `maxPerGpu` points per GPU. Exact for what
 * a point means: a merged period's bytes and energy are the sums of its periods' (null only when every one is
 * null), its gauges the reading at its end, as for any period. Totals over the series are unchanged; only
 * the time resolution is coarser. The full series stays in SQLite and the CSV exports.
 */
export function coarsenTelemetry(points: readonly TelemetryPoint[], maxPerGpu = SERIES_POINTS_PER_GPU): TelemetryPoint[] {
  const byGpu = new Map<number, TelemetryPoint[]>();
  for (const p of points) {
    const list = byGpu.get(p.gpu);
    if (list) list.push(p);
    else byGpu.set(p.gpu, [p]);
  }
  if ([...byGpu.values()].every((l) => l.length <= maxPerGpu)) return [...points];
  const sum = (xs: readonly TelemetryPoint[], k: 'pcie_tx_bytes' | 'pcie_rx_bytes' | 'c2c_tx_bytes' | 'c2c_rx_bytes' | 'energy_j') =>
    xs.some((x) => x[k] !== null) ? xs.reduce((a, x) => a + (x[k] ?? 0), 0) : null;
  const out: TelemetryPoint[] = [];
  for (const list of byGpu.values()) {
    const k = Math.ceil(list.length / maxPerGpu);
    for (let i = 0; i < list.length; i += k) {
      const run = list.slice(i, i + k);
      const last = run[run.length - 1]!;
      out.push({
        ...last,
        dt_s: run.reduce((a, x) => a + x.dt_s, 0),
        pcie_tx_bytes: sum(run, 'pcie_tx_bytes'),
        pcie_rx_bytes: sum(run, 'pcie_rx_bytes'),
        c2c_tx_bytes: sum(run, 'c2c_tx_bytes'),
        c2c_rx_bytes: sum(run, 'c2c_rx_bytes'),
        energy_j: sum(run, 'energy_j'),
      });
    }
  }
  return out.sort((a, b) => a.t_s - b.t_s || a.gpu - b.gpu);
}
