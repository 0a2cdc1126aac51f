/**
 * A DCGM exporter the operator already runs (NVIDIA/dcgm-exporter, Prometheus text on :9400/metrics).
 * Field meanings, from DCGM's dcgm_fields.h and dcgm-exporter's default counters:
 * - DCGM_FI_PROF_PCIE_TX_BYTES (1009) / RX_BYTES (1010): "The rate of data transmitted / received over
 *   the PCIe bus - including both protocol headers and data payloads - in bytes per second" (a gauge).
 * - DCGM_FI_PROF_C2C_TX_ALL_BYTES (1076) / RX_ALL_BYTES (1078): C2C bytes (header and payload), a rate
 *   DCGM scales from NVML GPM's MiB/s to bytes/s; only on Grace-coupled GPUs (GH200/GB200).
 * - DCGM_FI_DEV_POWER_USAGE (155): W. DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION (156): mJ since boot (counter).
 * - DCGM_FI_DEV_GPU_UTIL (203): %. DCGM_FI_DEV_SM_CLOCK (100): MHz. DCGM_FI_DEV_FB_USED (252): MiB.
 * Series are per GPU by the exporter's `gpu` label (its NVML index), `UUID` and `modelName` labels.
 * The rates are integrated over the time between two scrapes: bytes = rate × interval, so the
 * exporter's own collection interval (DCGM_EXPORTER_INTERVAL) bounds how fine the series is.
 */
import type { TelemetryPoint } from '@kvbench/common';
import { parsePrometheusText, type PromText } from '@kvbench/runner';
import { emptyPoint, TelemetryUnavailable, type Counter, type Gpu, type TelemetrySource } from './source.js';

export const DCGM_FIELDS = {
  pcieTx: 'DCGM_FI_PROF_PCIE_TX_BYTES',
  pcieRx: 'DCGM_FI_PROF_PCIE_RX_BYTES',
  c2cTx: 'DCGM_FI_PROF_C2C_TX_ALL_BYTES',
  c2cRx: 'DCGM_FI_PROF_C2C_RX_ALL_BYTES',
  power: 'DCGM_FI_DEV_POWER_USAGE',
  energy: 'DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION',
  util: 'DCGM_FI_DEV_GPU_UTIL',
  smClock: 'DCGM_FI_DEV_SM_CLOCK',
  fbUsed: 'DCGM_FI_DEV_FB_USED',
} as const;

const MIB = 2 ** 20;

/** One scrape: per GPU index, each field's value (absent when the exporter has no such series). */
export interface DcgmScrape {
  gpus: Map<number, { labels: Record<string, string>; values: Partial<Record<keyof typeof DCGM_FIELDS, number>> }>;
}

export function readDcgmScrape(text: string): DcgmScrape {
  const p: PromText = parsePrometheusText(text);
  const gpus: DcgmScrape['gpus'] = new Map();
  for (const s of p.samples) {
    const key = (Object.keys(DCGM_FIELDS) as (keyof typeof DCGM_FIELDS)[]).find((k) => DCGM_FIELDS[k] === s.name);
    if (!key) continue;
    const idx = Number(s.labels['gpu']);
    if (!Number.isInteger(idx) || idx < 0) continue;
    let g = gpus.get(idx);
    if (!g) gpus.set(idx, (g = { labels: s.labels, values: {} }));
    g.values[key] = s.value;
  }
  return { gpus };
}

/** What the first scrape says is missing, per counter. */
export function dcgmPlan(first: DcgmScrape): { gpus: Gpu[]; nullReasons: Partial<Record<Counter, string>> } {
  const reasons: Partial<Record<Counter, string[]>> = {};
  const need: [keyof typeof DCGM_FIELDS, Counter[]][] = [
    ['pcieTx', ['pcie_tx_bytes']],
    ['pcieRx', ['pcie_rx_bytes']],
    ['c2cTx', ['c2c_tx_bytes']],
    ['c2cRx', ['c2c_rx_bytes']],
    ['power', ['power_w']],
    ['util', ['util_pct']],
    ['smClock', ['sm_clock_mhz']],
    ['fbUsed', ['mem_used_bytes']],
  ];
  for (const [idx, g] of [...first.gpus.entries()].sort((a, b) => a[0] - b[0])) {
    for (const [field, counters] of need) {
      if (g.values[field] !== undefined) continue;
      const why =
        field === 'c2cTx' || field === 'c2cRx'
          ? `gpu ${idx}: the exporter has no ${DCGM_FIELDS[field]} series (only Grace-coupled GPUs have C2C, and the exporter's counter list must include it)`
          : `gpu ${idx}: the exporter has no ${DCGM_FIELDS[field]} series (not in its counter list, or not supported on this GPU)`;
      for (const c of counters) (reasons[c] ??= []).push(why);
    }
    if (g.values.energy === undefined && g.values.power === undefined)
      (reasons['energy_j'] ??= []).push(`gpu ${idx}: neither ${DCGM_FIELDS.energy} nor ${DCGM_FIELDS.power}`);
  }
  const nullReasons: Partial<Record<Counter, string>> = {};
  for (const [k, v] of Object.entries(reasons)) nullReasons[k as Counter] = v!.join('; ');
  return {
    gpus: [...first.gpus.entries()].sort((a, b) => a[0] - b[0]).map(([i, g]) => ({ index: i, name: g.labels['modelName'] ?? null, uuid: g.labels['UUID'] ?? null, pci_bus_id: g.labels['pci_bus_id'] ?? null })),
    nullReasons,
  };
}

/** Points from two successive scrapes `dt_s` apart, the later at `t_s`. */
export function dcgmPoints(prev: DcgmScrape, cur: DcgmScrape, t_s: number, dt_s: number): TelemetryPoint[] {
  const out: TelemetryPoint[] = [];
  for (const [idx, g] of cur.gpus) {
    const before = prev.gpus.get(idx);
    if (!before) continue;
    const v = g.values;
    const p = emptyPoint(idx, t_s, dt_s);
    // Rates held over the interval: the mean of the two readings (trapezoid), bytes/s × s.
    const integrate = (k: 'pcieTx' | 'pcieRx' | 'c2cTx' | 'c2cRx') => {
      const a = before.values[k];
      const b = v[k];
      return a === undefined || b === undefined ? null : ((a + b) / 2) * dt_s;
    };
    p.pcie_tx_bytes = integrate('pcieTx');
    p.pcie_rx_bytes = integrate('pcieRx');
    p.c2c_tx_bytes = integrate('c2cTx');
    p.c2c_rx_bytes = integrate('c2cRx');
    p.power_w = v.power ?? null;
    if (v.energy !== undefined && before.values.energy !== undefined) p.energy_j = Math.max(0, v.energy - before.values.energy) / 1000;
    else if (p.power_w !== null) p.energy_j = p.power_w * dt_s;
    p.util_pct = v.util ?? null;
    p.sm_clock_mhz = v.smClock ?? null;
    p.mem_used_bytes = v.fbUsed === undefined ? null : v.fbUsed * MIB;
    out.push(p);
  }
  return out.sort((a, b) => a.gpu - b.gpu);
}

export interface DcgmSourceOptions {
  url: string;
  periodMs: number;
  timeoutMs?: number;
}

async function scrape(url: string, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.text();
}

export async function openDcgmSource(o: DcgmSourceOptions): Promise<TelemetrySource> {
  const timeoutMs = o.timeoutMs ?? 2000;
  let first: DcgmScrape;
  try {
    first = readDcgmScrape(await scrape(o.url, timeoutMs));
  } catch (err) {
    throw new TelemetryUnavailable('dcgm', `DCGM exporter ${o.url}: ${(err as Error).message}`, { cause: err });
  }
  if (first.gpus.size === 0) throw new TelemetryUnavailable('dcgm', `DCGM exporter ${o.url} has no DCGM_FI_* series with a gpu label`);
  const plan = dcgmPlan(first);
  let timer: NodeJS.Timeout | null = null;
  let prev: { s: DcgmScrape; tNs: bigint } | null = null;
  let origin = 0n;
  let deliver: (p: TelemetryPoint[]) => void = () => {};
  let inFlight: Promise<void> = Promise.resolve();
  let busy = false;
  const tick = () => {
    // One scrape at a time: a slow exporter stretches the period rather than overlapping scrapes.
    if (busy) return;
    busy = true;
    inFlight = (async () => {
      let s: DcgmScrape;
      try {
        s = readDcgmScrape(await scrape(o.url, timeoutMs));
      } catch {
        return; // a missed scrape widens the next period; the series stays right
      } finally {
        busy = false;
      }
      const tNs = process.hrtime.bigint();
      if (prev) deliver(dcgmPoints(prev.s, s, Number(tNs - origin) / 1e9, Number(tNs - prev.tNs) / 1e9));
      prev = { s, tNs };
    })();
  };
  return {
    kind: 'dcgm',
    simulated: false,
    detail: `DCGM exporter ${o.url}, scraped every ${o.periodMs} ms; PCIe/C2C bytes = exporter rate × scrape interval (headers included, per DCGM)`,
    gpus: plan.gpus,
    nullReasons: plan.nullReasons,
    start(onPoints, originNs) {
      origin = originNs;
      deliver = onPoints;
      tick();
      timer = setInterval(tick, o.periodMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await inFlight;
      tick();
      await inFlight;
    },
  };
}
