/**
 * nvidia-smi, the floor: `nvidia-smi --query-gpu=index,uuid,name,utilization.gpu,clocks.sm,power.draw,
 * memory.used --format=csv,nounits -lms <period>` (field names from `nvidia-smi
 * --help-query-gpu`). It has no PCIe or C2C byte counter, so those are null; energy is power × period.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TelemetryPoint } from '@kvbench/common';
import { emptyPoint, TelemetryUnavailable, type Counter, type Gpu, type TelemetrySource } from './source.js';

export const NVIDIA_SMI_QUERY = 'index,uuid,name,utilization.gpu,clocks.sm,power.draw,memory.used';

const NO_LINK_COUNTER =
  'nvidia-smi reports no PCIe/C2C byte counter (its --query-gpu has none; dmon -s t gives a sampled MB/s at 1 s at best); run a DCGM exporter or install nvidia-ml-py for link bytes';

export interface SmiRow {
  index: number;
  uuid: string | null;
  name: string | null;
  util_pct: number | null;
  sm_clock_mhz: number | null;
  power_w: number | null;
  mem_used_bytes: number | null;
}

const num = (s: string | undefined): number | null => {
  if (s === undefined) return null;
  const t = s.trim();
  if (t === '' || /^\[?N\/A\]?$/i.test(t) || /not supported/i.test(t)) return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
};

/** Column names as nvidia-smi prints them in the CSV header (units stripped), with their aliases. */
const COLUMNS: Record<keyof SmiRow, string[]> = {
  index: ['index'],
  uuid: ['uuid'],
  name: ['name'],
  util_pct: ['utilization.gpu'],
  sm_clock_mhz: ['clocks.sm', 'clocks.current.sm'],
  power_w: ['power.draw'],
  mem_used_bytes: ['memory.used'],
};

/**
 * `--format=csv,nounits` output: the header line names the columns (`clocks.current.sm [MHz]`),
 * so any query that includes these fields parses, whatever their order or what else it asks.
 */
export class SmiCsv {
  private cols: Partial<Record<keyof SmiRow, number>> | null = null;

  /** A data row, or null for the header and lines that are not one. */
  line(line: string): SmiRow | null {
    const f = line.split(',').map((x) => x.trim());
    if (this.cols === null) {
      const names = f.map((x) => x.replace(/\s*\[.*\]$/, '').toLowerCase());
      if (!names.includes('index')) return null;
      this.cols = {};
      for (const [k, aliases] of Object.entries(COLUMNS)) {
        const i = names.findIndex((n) => aliases.includes(n));
        if (i >= 0) this.cols[k as keyof SmiRow] = i;
      }
      return null;
    }
    const c = this.cols;
    const at = (k: keyof SmiRow) => (c[k] === undefined ? undefined : f[c[k]!]);
    const index = Number(at('index'));
    if (!Number.isInteger(index)) return null;
    const mib = num(at('mem_used_bytes'));
    return {
      index,
      uuid: at('uuid') ?? null,
      name: at('name') ?? null,
      util_pct: num(at('util_pct')),
      sm_clock_mhz: num(at('sm_clock_mhz')),
      power_w: num(at('power_w')),
      mem_used_bytes: mib === null ? null : mib * 2 ** 20,
    };
  }
}

/** Turns rows, each stamped on arrival (monotonic ns), into points per GPU. */
export class SmiConverter {
  private last = new Map<number, bigint>();
  constructor(private readonly originNs: bigint) {}
  push(row: SmiRow, tNs: bigint): TelemetryPoint | null {
    const before = this.last.get(row.index);
    this.last.set(row.index, tNs);
    if (before === undefined) return null;
    const dt = Number(tNs - before) / 1e9;
    const p = emptyPoint(row.index, Number(tNs - this.originNs) / 1e9, dt);
    p.util_pct = row.util_pct;
    p.sm_clock_mhz = row.sm_clock_mhz;
    p.power_w = row.power_w;
    p.energy_j = row.power_w === null ? null : row.power_w * dt;
    p.mem_used_bytes = row.mem_used_bytes;
    return p;
  }
}

export const SMI_NULL_REASONS: Partial<Record<Counter, string>> = {
  pcie_tx_bytes: NO_LINK_COUNTER,
  pcie_rx_bytes: NO_LINK_COUNTER,
  c2c_tx_bytes: NO_LINK_COUNTER,
  c2c_rx_bytes: NO_LINK_COUNTER,
};

export async function openNvidiaSmiSource(o: { bin?: string; periodMs: number }): Promise<TelemetrySource> {
  const bin = o.bin ?? 'nvidia-smi';
  const args = [`--query-gpu=${NVIDIA_SMI_QUERY}`, '--format=csv,nounits'];
  // One query first: is there nvidia-smi and a GPU at all?
  const gpus = await new Promise<Gpu[]>((resolve, reject) => {
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d));
    c.stderr.on('data', (d: Buffer) => (err += d));
    c.once('error', (e) => reject(new TelemetryUnavailable('nvidia-smi', `cannot run ${bin}: ${e.message}`, { cause: e })));
    c.once('exit', (code) => {
      const csv = new SmiCsv();
      const rows = out.split('\n').map((l) => csv.line(l)).filter((r): r is SmiRow => r !== null);
      if (code !== 0 || rows.length === 0) reject(new TelemetryUnavailable('nvidia-smi', `${bin} exited ${code}: ${(err || out).trim().slice(0, 300)}`));
      else resolve(rows.map((r) => ({ index: r.index, name: r.name, uuid: r.uuid })));
    });
  });
  const periodMs = Math.max(1, Math.round(o.periodMs));
  const child = spawn(bin, [...args, `-lms=${periodMs}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  const ended = new Promise<void>((r) => child.once('exit', () => r()));
  child.once('error', () => {});
  return {
    kind: 'nvidia-smi',
    simulated: false,
    detail: `${bin} ${args.join(' ')} -lms=${periodMs}`,
    gpus,
    nullReasons: SMI_NULL_REASONS,
    start(onPoints, originNs) {
      const conv = new SmiConverter(originNs);
      const csv = new SmiCsv();
      createInterface({ input: child.stdout! }).on('line', (l) => {
        const r = csv.line(l);
        if (!r) return;
        const p = conv.push(r, process.hrtime.bigint());
        if (p) onPoints([p]);
      });
    },
    async stop() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await ended;
      clearTimeout(t);
    },
  };
}



