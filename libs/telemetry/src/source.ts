import { TELEMETRY_COLUMNS, type TelemetryGpu, type TelemetryPoint, type TelemetrySourceKind } from '@kvbench/common';
import { z } from 'zod';

/** The counters of a TelemetryPoint that a source may lack: every column but the GPU and its period. */
export const COUNTERS = TELEMETRY_COLUMNS.filter(
  (c): c is Exclude<(typeof TELEMETRY_COLUMNS)[number], 'gpu' | 't_s' | 'dt_s'> => c !== 'gpu' && c !== 't_s' && c !== 'dt_s',
);
export type Counter = (typeof COUNTERS)[number];

export type Gpu = z.infer<typeof TelemetryGpu>;

/**
 * A running telemetry source. It delivers points as it takes them; `stop()` takes a last
 * reading (so the series covers the run's end) and releases the process or socket.
 */
export interface TelemetrySource {
  readonly kind: TelemetrySourceKind;
  /** Exactly how it reads (URL, command, library versions). */
  readonly detail: string;
  readonly simulated: boolean;
  readonly gpus: Gpu[];
  /** Why each counter this source cannot give is null (per counter; "gpu N: …" where GPUs differ). */
  readonly nullReasons: Partial<Record<Counter, string>>;
  /** Begin delivering; `originNs` (process.hrtime.bigint()) is the run's t = 0. */
  start(onPoints: (points: TelemetryPoint[]) => void, originNs: bigint): void;
  stop(): Promise<void>;
}

/** A source that cannot run here; the reason goes into the run's `telemetry.tried`. */
export class TelemetryUnavailable extends Error {
  constructor(
    readonly source: TelemetrySourceKind,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
    this.name = 'TelemetryUnavailable';
  }
}

/** A point with every counter null: sources fill in what they have. */
export function emptyPoint(gpu: number, t_s: number, dt_s: number): TelemetryPoint {
  return {
    gpu,
    t_s,
    dt_s,
    pcie_tx_bytes: null,
    pcie_rx_bytes: null,
    c2c_tx_bytes: null,
    c2c_rx_bytes: null,
    util_pct: null,
    sm_clock_mhz: null,
    power_w: null,
    energy_j: null,
    mem_used_bytes: null,
  };
}

export const secondsSince = (originNs: bigint, tNs: bigint): number => Number(tNs - originNs) / 1e9;
