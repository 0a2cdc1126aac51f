import type { Logger, TelemetryPoint, TelemetrySourceKind } from '@kvbench/common';
import { openDcgmSource } from './dcgm.js';
import { openNvidiaSmiSource } from './nvidia-smi.js';
import { openNvmlSource } from './nvml.js';
import { readPcieFraming } from './pcie-framing.js';
import { openSimSource } from './sim.js';
import { TelemetryUnavailable, type Gpu, type TelemetrySource } from './source.js';

export const DEFAULT_PERIOD_MS = 100;

/** How the host agent and `kvbench bench` sample telemetry (validated by their config/flags). */
export interface TelemetryOptions {
  /** Sampling period; 100 ms by default. */
  periodMs?: number;
  /** A DCGM exporter's metrics URL (e.g. http://127.0.0.1:9400/metrics); unset: not tried. */
  dcgmUrl?: string | null;
  /** python3 with nvidia-ml-py for the NVML sidecar. */
  python?: string;
  nvidiaSmiBin?: string;
  /** false turns telemetry off (recorded as source "none"). */
  enabled?: boolean;
  /** Where the GPUs' PCI config spaces are read (their Max_Payload_Size); this host's sysfs by default. */
  pciDevicesDir?: string;
}

export interface OpenedTelemetry {
  source: TelemetrySource | null;
  tried: { source: TelemetrySourceKind; reason: string }[];
  periodMs: number;
}

/**
 * The first source that works, in the order: a DCGM exporter, NVML (sidecar), nvidia-smi.
 * A simulator run reads the simulator's own modelled series instead (never hardware).
 */
export async function openTelemetry(run: { simulated: boolean; engineUrl: string | null; timeScale?: number }, o: TelemetryOptions, log?: Logger): Promise<OpenedTelemetry> {
  const periodMs = o.periodMs ?? DEFAULT_PERIOD_MS;
  const tried: OpenedTelemetry['tried'] = [];
  if (o.enabled === false) return { source: null, tried: [{ source: 'none', reason: 'telemetry turned off' }], periodMs };
  const attempts: [TelemetrySourceKind, () => Promise<TelemetrySource>][] = run.simulated
    ? [['sim', () => (run.engineUrl ? openSimSource({ engineUrl: run.engineUrl, periodMs, ...(run.timeScale ? { timeScale: run.timeScale } : {}) }) : Promise.reject(new TelemetryUnavailable('sim', 'no engine URL in run_meta')))]]
    : [
        ['dcgm', () => (o.dcgmUrl ? openDcgmSource({ url: o.dcgmUrl, periodMs }) : Promise.reject(new TelemetryUnavailable('dcgm', 'no DCGM exporter URL configured (KVBENCH_DCGM_URL / --dcgm_url)')))],
        ['nvml', () => openNvmlSource({ periodMs, ...(o.python ? { python: o.python } : {}) })],
        ['nvidia-smi', () => openNvidiaSmiSource({ periodMs, ...(o.nvidiaSmiBin ? { bin: o.nvidiaSmiBin } : {}) })],
      ];
  for (const [kind, open] of attempts) {
    try {
      const source = await open();
      if (!source.simulated) await readGpuFraming(source.gpus, o.pciDevicesDir);
      log?.info({ telemetry: source.kind, detail: source.detail }, 'telemetry source');
      return { source, tried, periodMs };
    } catch (err) {
      const reason = err instanceof TelemetryUnavailable ? err.message : `${kind}: ${(err as Error).message}`;
      tried.push({ source: kind, reason });
    }
  }
  log?.warn({ tried }, 'no telemetry source works here; telemetry figures will be null');
  return { source: null, tried, periodMs };
}

/**
 * Each GPU's PCIe framing from its config space, so the summary can take the TLP headers off the
 * counted bytes; a GPU whose config cannot be read keeps the reason (the payload is then null).
 */
async function readGpuFraming(gpus: Gpu[], devicesDir?: string): Promise<void> {
  for (const g of gpus) {
    if (!g.pci_bus_id) {
      g.pcie_framing = null;
      g.pcie_framing_null_reason = 'the telemetry source gave no PCI address for this GPU';
      continue;
    }
    const r = await readPcieFraming(g.pci_bus_id, devicesDir);
    g.pcie_framing = r.ok ? r.framing : null;
    if (!r.ok) g.pcie_framing_null_reason = r.reason;
  }
}

/** Collects a source's points for one run; bounded by construction (one point per period per GPU). */
export class PointBuffer {
  readonly all: TelemetryPoint[] = [];
  private unsent = 0;
  push(points: readonly TelemetryPoint[]): void {
    for (const p of points) this.all.push(p); // not push(...points): one read can bring more points than a call takes arguments
    this.unsent += points.length;
  }
  /** The points not yet published, at most `max`. */
  takeUnsent(max: number): TelemetryPoint[] {
    const start = this.all.length - this.unsent;
    const out = this.all.slice(start, start + max);
    this.unsent -= out.length;
    return out;
  }
  get pending(): number {
    return this.unsent;
  }
}
