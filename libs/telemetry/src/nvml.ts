/**
 * NVML through nvidia-ml-py in a small Python sidecar (python/nvml_sidecar.py). The sidecar only
 * reads the library; this converter turns its raw readings into per-period points, so a recorded
 * sidecar output (test/fixtures, the H200 capture) replays through the same code.
 *
 * NVML facts (nvml.h, NVML API reference; nvidia-ml-py pynvml.py):
 * - NVML_FI_DEV_PCIE_COUNT_TX_BYTES (197) / RX_BYTES (198) through nvmlDeviceGetFieldValues:
 *   "PCIe transmit/receive bytes. Value can be wrapped." — cumulative counters; the field's
 *   valueType says their width (so where they wrap).
 * - GPM (Hopper+): nvmlGpmMetricsGet between two nvmlGpmSampleGet samples gives
 *   NVML_GPM_METRIC_PCIE_TX_PER_SEC (20) / RX_PER_SEC (21) and NVML_GPM_METRIC_C2C_TOTAL_TX_PER_SEC /
 *   RX_PER_SEC in MiB/s averaged over exactly that interval: bytes = rate × interval.
 * - nvmlDeviceGetTotalEnergyConsumption: mJ since the driver was last reloaded (Volta+).
 * - nvmlDeviceGetPowerUsage: mW; nvmlDeviceGetMemoryInfo().used: bytes;
 *   nvmlDeviceGetUtilizationRates().gpu: %; nvmlDeviceGetClockInfo(NVML_CLOCK_SM): MHz.
 * TX is what the GPU sent (device→host: offload), RX what it received (host→device: onboard).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TelemetryPoint } from '@kvbench/common';
import { z } from 'zod';
import { emptyPoint, TelemetryUnavailable, type Counter, type Gpu, type TelemetrySource } from './source.js';

export const NVML_SIDECAR_PATH = fileURLToPath(new URL('../../python/nvml_sidecar.py', import.meta.url));

const Cap = z.object({ available: z.boolean(), reason: z.string().optional(), how: z.string().optional() }).loose();
export const NvmlHello = z.discriminatedUnion('ok', [
  z.object({ type: z.literal('hello'), ok: z.literal(false), reason: z.string() }).loose(),
  z
    .object({
      type: z.literal('hello'),
      ok: z.literal(true),
      period_ms: z.number().positive(),
      t_ns: z.number(),
      versions: z.record(z.string(), z.string().nullable()),
      gpus: z.array(
        z
          .object({
            index: z.number().int().nonnegative(),
            name: z.string().nullable(),
            uuid: z.string().nullable(),
            pci_bus_id: z.string().nullable().optional(),
            caps: z
              .object({
                pcie_counters: Cap.extend({ bits: z.number().int().optional() }),
                gpm: Cap,
                c2c_links: Cap.optional(),
                power: Cap,
                energy: Cap,
                util: Cap,
                sm_clock: Cap,
                memory: Cap,
                pcie_throughput: Cap.optional(),
              })
              .loose(),
          })
          .loose(),
      ),
    })
    .loose(),
]);
export type NvmlHello = z.infer<typeof NvmlHello>;
type NvmlHelloOk = Extract<NvmlHello, { ok: true }>;

const nnum = z.number().nullable().optional();
export const NvmlReading = z
  .object({
    type: z.literal('reading'),
    seq: z.number().int(),
    t_ns: z.number(),
    read_ns: z.number(),
    gpus: z.array(
      z
        .object({
          index: z.number().int(),
          pcie_tx_count: nnum,
          pcie_rx_count: nnum,
          /** 64-bit totals the sidecar accumulates from counters read every few ms (no wrap ambiguity). */
          pcie_tx_total: nnum,
          pcie_rx_total: nnum,
          pcie_counter_max_gap_ms: nnum,
          gpm_pcie_tx_mibps: nnum,
          gpm_pcie_rx_mibps: nnum,
          gpm_c2c_tx_mibps: nnum,
          gpm_c2c_rx_mibps: nnum,
          gpm_interval_s: nnum,
          pcie_tx_kbps: nnum,
          pcie_rx_kbps: nnum,
          power_mw: nnum,
          energy_mj: nnum,
          util_pct: nnum,
          sm_clock_mhz: nnum,
          mem_used_bytes: nnum,
        })
        .loose(),
    ),
  })
  .loose();
export type NvmlReading = z.infer<typeof NvmlReading>;

/** How PCIe bytes are taken from NVML, best first. */
export type PcieMethod = 'counters' | 'gpm' | 'throughput';

export interface NvmlPlan {
  gpus: Gpu[];
  pcie: Map<number, { method: PcieMethod | null; bits: number }>;
  c2c: Map<number, boolean>;
  nullReasons: Partial<Record<Counter, string>>;
  detail: string;
}

/**
 * Decide from the hello line what each GPU's figures come from. `prefer` orders the PCIe
 * methods; the default puts the hardware byte counters first.
 */
export function planFromHello(h: NvmlHelloOk, prefer: readonly PcieMethod[] = ['counters', 'gpm', 'throughput']): NvmlPlan {
  const reasons: Partial<Record<Counter, string[]>> = {};
  const add = (c: Counter, why: string) => (reasons[c] ??= []).push(why);
  const pcie = new Map<number, { method: PcieMethod | null; bits: number }>();
  const c2c = new Map<number, boolean>();
  const methods: string[] = [];
  for (const g of h.gpus) {
    const caps = g.caps;
    const ok: Record<PcieMethod, boolean> = {
      counters: caps.pcie_counters.available,
      gpm: caps.gpm.available,
      throughput: caps.pcie_throughput?.available === true,
    };
    const method = prefer.find((m) => ok[m]) ?? null;
    pcie.set(g.index, { method, bits: caps.pcie_counters.bits ?? 64 });
    methods.push(`gpu ${g.index}: PCIe ${method ?? 'none'}`);
    if (method === null) {
      const why = `gpu ${g.index}: no PCIe byte counter (field 197/198: ${caps.pcie_counters.reason ?? 'n/a'}; GPM: ${caps.gpm.reason ?? 'n/a'})`;
      add('pcie_tx_bytes', why);
      add('pcie_rx_bytes', why);
    }
    const metrics = (caps.gpm as { metrics?: Record<string, number> }).metrics ?? {};
    const hasC2c = caps.gpm.available && 'c2c_tx' in metrics && caps.c2c_links?.available === true && Number((caps.c2c_links as { count?: number }).count ?? 0) > 0;
    c2c.set(g.index, hasC2c);
    if (!hasC2c) {
      const why = `gpu ${g.index}: no NVLink-C2C here (${caps.c2c_links?.reason ?? (caps.c2c_links?.available ? 'NVML_FI_DEV_C2C_LINK_COUNT is 0' : 'no C2C link count')}${caps.gpm.available ? '' : `; GPM: ${caps.gpm.reason}`})`;
      add('c2c_tx_bytes', why);
      add('c2c_rx_bytes', why);
    }
    for (const [counter, cap] of [
      ['power_w', caps.power],
      ['util_pct', caps.util],
      ['sm_clock_mhz', caps.sm_clock],
      ['mem_used_bytes', caps.memory],
    ] as const) {
      if (!cap.available) add(counter, `gpu ${g.index}: ${cap.reason}`);
    }
    if (!caps.energy.available && !caps.power.available) add('energy_j', `gpu ${g.index}: neither energy counter (${caps.energy.reason}) nor power`);
  }
  const nullReasons: Partial<Record<Counter, string>> = {};
  for (const [k, v] of Object.entries(reasons)) nullReasons[k as Counter] = v!.join('; ');
  const v = h.versions;
  return {
    gpus: h.gpus.map((g) => ({ index: g.index, name: g.name, uuid: g.uuid, pci_bus_id: g.pci_bus_id ?? null })),
    pcie,
    c2c,
    nullReasons,
    detail: `NVML (nvidia-ml-py ${v['nvidia_ml_py'] ?? '?'}, driver ${v['driver'] ?? '?'}) via the sidecar, ${methods.join(', ')}`,
  };
}

const MIB = 2 ** 20;

/** Turns successive sidecar readings into points: deltas of counters, rates × intervals. */
export class NvmlConverter {
  private prev = new Map<number, { tNs: number; r: NvmlReading['gpus'][number] }>();
  constructor(
    private readonly plan: NvmlPlan,
    private readonly originNs: number,
  ) {}

  /**
   * `next`, where known (a recording replayed whole), is the reading after this one: its GPM rate is
   * the better wrap estimate for this period, because GPM lags the counters by about one period (on
   * the H100 capture, the GPM rate read at the end of period i+1 matched the counter's period i).
   */
  push(reading: NvmlReading, next?: NvmlReading): TelemetryPoint[] {
    const out: TelemetryPoint[] = [];
    for (const g of reading.gpus) {
      const before = this.prev.get(g.index);
      this.prev.set(g.index, { tNs: reading.t_ns, r: g });
      if (!before) continue; // the first reading only opens the first period
      const dt = (reading.t_ns - before.tNs) / 1e9;
      const p = emptyPoint(g.index, (reading.t_ns - this.originNs) / 1e9, dt);
      const plan = this.plan.pcie.get(g.index);
      const gpmDt = g.gpm_interval_s ?? dt;
      if (plan?.method === 'counters' && g.pcie_tx_total != null && before.r.pcie_tx_total != null) {
        // The sidecar read the counters every few ms and summed the deltas: exact while no gap between
        // its reads reached a whole wrap (pcie_counter_max_gap_ms says how close that came).
        p.pcie_tx_bytes = g.pcie_tx_total - before.r.pcie_tx_total;
        p.pcie_rx_bytes = g.pcie_rx_total! - before.r.pcie_rx_total!;
      } else if (plan?.method === 'counters') {
        // A recording without accumulated totals (the first H100 capture): 32-bit counters wrap every
        // 4.29 GB (78 ms at 55 GB/s on an H100's PCIe Gen5 x16), read 100 ms apart. GPM's rate over the
        // interval guesses the wraps. GPM lags the counters by about a period, so live (no next reading) a
        // period at a transfer's start or end can be off by one wrap; replayed whole, the next reading's GPM is used.
        const est = next?.gpus.find((n) => n.index === g.index) ?? g;
        const estDt = est.gpm_interval_s ?? dt;
        const gpmTx = est.gpm_pcie_tx_mibps == null ? null : est.gpm_pcie_tx_mibps * MIB * estDt;
        const gpmRx = est.gpm_pcie_rx_mibps == null ? null : est.gpm_pcie_rx_mibps * MIB * estDt;
        p.pcie_tx_bytes = unwrapCounter(before.r.pcie_tx_count, g.pcie_tx_count, plan.bits, gpmTx);
        p.pcie_rx_bytes = unwrapCounter(before.r.pcie_rx_count, g.pcie_rx_count, plan.bits, gpmRx);
      } else if (plan?.method === 'gpm') {
        p.pcie_tx_bytes = g.gpm_pcie_tx_mibps == null ? null : g.gpm_pcie_tx_mibps * MIB * gpmDt;
        p.pcie_rx_bytes = g.gpm_pcie_rx_mibps == null ? null : g.gpm_pcie_rx_mibps * MIB * gpmDt;
      } else if (plan?.method === 'throughput') {
        // KB/s over NVML's own 20 ms window, taken as the period's rate: an estimate.
        p.pcie_tx_bytes = g.pcie_tx_kbps == null ? null : g.pcie_tx_kbps * 1000 * dt;
        p.pcie_rx_bytes = g.pcie_rx_kbps == null ? null : g.pcie_rx_kbps * 1000 * dt;
      }
      if (this.plan.c2c.get(g.index)) {
        p.c2c_tx_bytes = g.gpm_c2c_tx_mibps == null ? null : g.gpm_c2c_tx_mibps * MIB * gpmDt;
        p.c2c_rx_bytes = g.gpm_c2c_rx_mibps == null ? null : g.gpm_c2c_rx_mibps * MIB * gpmDt;
      }
      p.power_w = g.power_mw == null ? null : g.power_mw / 1000;
      if (g.energy_mj != null && before.r.energy_mj != null) p.energy_j = Math.max(0, g.energy_mj - before.r.energy_mj) / 1000;
      else if (p.power_w !== null) p.energy_j = p.power_w * dt;
      p.util_pct = g.util_pct ?? null;
      p.sm_clock_mhz = g.sm_clock_mhz ?? null;
      p.mem_used_bytes = g.mem_used_bytes ?? null;
      out.push(p);
    }
    return out;
  }
}

/** b − a for a counter of `bits` width that may have wrapped once in between. */
export function counterDelta(a: number | null | undefined, b: number | null | undefined, bits: number): number | null {
  if (a == null || b == null) return null;
  if (b >= a) return b - a;
  return bits >= 53 ? null : b + 2 ** bits - a; // a 64-bit wrap cannot be told from a reset
}

/**
 * b − a for a wrapping counter, the number of wraps taken from an independent estimate of the
 * bytes (GPM's rate × interval) when there is one; else at most one wrap is assumed.
 */
export function unwrapCounter(a: number | null | undefined, b: number | null | undefined, bits: number, estimate: number | null): number | null {
  if (a == null || b == null) return null;
  if (bits >= 53) return b >= a ? b - a : null;
  const mod = 2 ** bits;
  const raw = (((b - a) % mod) + mod) % mod;
  if (estimate === null) return raw;
  return raw + Math.max(0, Math.round((estimate - raw) / mod)) * mod;
}

/** Parse a whole recorded sidecar output (JSON lines) into points. */
export function convertNvmlLines(lines: readonly string[], originNs?: number, prefer?: readonly PcieMethod[]): { plan: NvmlPlan; points: TelemetryPoint[] } {
  const parsed = lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { type: string });
  const hello = NvmlHello.parse(parsed.find((l) => l.type === 'hello'));
  if (!hello.ok) throw new TelemetryUnavailable('nvml', hello.reason);
  const plan = planFromHello(hello, prefer);
  const conv = new NvmlConverter(plan, originNs ?? hello.t_ns);
  const readings = parsed.filter((l) => l.type === 'reading').map((l) => NvmlReading.parse(l));
  const points: TelemetryPoint[] = [];
  readings.forEach((r, i) => points.push(...conv.push(r, readings[i + 1])));
  return { plan, points };
}

export interface NvmlSourceOptions {
  python?: string;
  /** Environment of the sidecar (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** How often the sidecar reads the PCIe counters between readings (default 10 ms). */
  counterMs?: number;
  sidecarPath?: string;
  periodMs: number;
  /** How long to wait for the sidecar's hello line. */
  helloTimeoutMs?: number;
}

/** Start the sidecar; resolves once it said hello with at least one GPU, else TelemetryUnavailable. */
export async function openNvmlSource(o: NvmlSourceOptions): Promise<TelemetrySource> {
  const python = o.python ?? 'python3';
  const args = [o.sidecarPath ?? NVML_SIDECAR_PATH, '--period-ms', String(o.periodMs), ...(o.counterMs !== undefined ? ['--counter-ms', String(o.counterMs)] : [])];
  const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(o.env ? { env: o.env } : {}) });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const lines = createInterface({ input: child.stdout! });
  const queue: string[] = [];
  let deliver: ((l: string) => void) | null = null;
  lines.on('line', (l) => (deliver ? deliver(l) : queue.push(l)));
  const first = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new TelemetryUnavailable('nvml', `the NVML sidecar said nothing within ${o.helloTimeoutMs ?? 10_000} ms`)), o.helloTimeoutMs ?? 10_000);
    child.once('error', (e) => (clearTimeout(t), reject(new TelemetryUnavailable('nvml', `cannot run ${python}: ${e.message}`, { cause: e }))));
    child.once('exit', (code) => (clearTimeout(t), reject(new TelemetryUnavailable('nvml', `the NVML sidecar exited (${code}) before hello: ${stderr.trim().slice(-300)}`))));
    lines.once('line', (l) => (clearTimeout(t), resolve(queue.shift() ?? l)));
  }).catch((e) => {
    child.kill('SIGKILL');
    throw e;
  });
  const hello = NvmlHello.safeParse(JSON.parse(first));
  if (!hello.success) {
    child.kill('SIGKILL');
    throw new TelemetryUnavailable('nvml', `the NVML sidecar's first line is not a hello: ${first.slice(0, 200)}`);
  }
  if (!hello.data.ok) {
    child.kill('SIGKILL');
    throw new TelemetryUnavailable('nvml', hello.data.reason);
  }
  if (hello.data.gpus.length === 0) {
    child.kill('SIGKILL');
    throw new TelemetryUnavailable('nvml', 'NVML sees no GPU');
  }
  const plan = planFromHello(hello.data);
  return new NvmlSource(child, plan, queue, (fn) => (deliver = fn));
}

class NvmlSource implements TelemetrySource {
  readonly kind = 'nvml' as const;
  readonly simulated = false;
  readonly detail: string;
  readonly gpus: Gpu[];
  readonly nullReasons: Partial<Record<Counter, string>>;
  private ended: Promise<void>;

  constructor(
    private readonly child: ChildProcess,
    private readonly plan: NvmlPlan,
    private readonly queue: string[],
    private readonly onLine: (fn: (l: string) => void) => void,
  ) {
    this.detail = plan.detail;
    this.gpus = plan.gpus;
    this.nullReasons = plan.nullReasons;
    this.ended = new Promise((r) => child.once('exit', () => r()));
  }

  start(onPoints: (points: TelemetryPoint[]) => void, originNs: bigint): void {
    // The sidecar's t_ns is Python's time.monotonic_ns(): CLOCK_MONOTONIC, the clock process.hrtime reads on Linux.
    const conv = new NvmlConverter(this.plan, Number(originNs));
    const handle = (l: string) => {
      let j: unknown;
      try {
        j = JSON.parse(l);
      } catch {
        return;
      }
      const r = NvmlReading.safeParse(j);
      if (r.success) {
        const pts = conv.push(r.data).filter((p) => p.t_s > 0);
        if (pts.length) onPoints(pts);
      }
    };
    for (const l of this.queue.splice(0)) handle(l);
    this.onLine(handle);
  }

  async stop(): Promise<void> {
    // Closing stdin ends the sidecar after its current reading; SIGTERM as well, SIGKILL if it hangs.
    this.child.stdin?.end();
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.ended;
    clearTimeout(t);
  }
}
