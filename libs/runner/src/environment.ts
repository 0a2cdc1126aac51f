/**
 * Facts about the machine for run_meta: GPU, driver, PCIe link, CPU, memory,
 * hostname. Every fact comes from a tool or the kernel; when the tool is absent
 * or fails, that is recorded (with why) instead of a guess.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { arch, cpus, hostname, platform, release, totalmem } from 'node:os';

export interface Absent {
  available: false;
  reason: string;
}

export interface GpuInfo {
  index: number;
  name: string;
  driver_version: string;
  memory_total_mib: number | null;
  pcie_link_gen_current: number | null;
  pcie_link_gen_max: number | null;
  pcie_link_width_current: number | null;
  pcie_link_width_max: number | null;
}

export interface EnvironmentInfo {
  hostname: string;
  os: { platform: string; release: string; arch: string };
  node: string;
  cpu: { model: string | null; logical_cores: number; source: string } | Absent;
  host_memory_bytes: number;
  gpus: GpuInfo[] | Absent;
}

function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });
}

const intOrNull = (s: string | undefined) => {
  const v = Number((s ?? '').trim());
  return s !== undefined && s.trim() !== '' && Number.isFinite(v) ? v : null;
};

const GPU_QUERY = [
  'index',
  'name',
  'driver_version',
  'memory.total',
  'pcie.link.gen.current',
  'pcie.link.gen.max',
  'pcie.link.width.current',
  'pcie.link.width.max',
];

/** Parse `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` output. "[N/A]" becomes null. */
export function parseNvidiaSmiCsv(out: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split(',').map((x) => x.trim());
    const na = (x: string | undefined) => (x === undefined || /^\[?N\/A\]?$/i.test(x) || /not supported/i.test(x) ? undefined : x);
    gpus.push({
      index: intOrNull(f[0]) ?? gpus.length,
      name: f[1] ?? '',
      driver_version: f[2] ?? '',
      memory_total_mib: intOrNull(na(f[3])),
      pcie_link_gen_current: intOrNull(na(f[4])),
      pcie_link_gen_max: intOrNull(na(f[5])),
      pcie_link_width_current: intOrNull(na(f[6])),
      pcie_link_width_max: intOrNull(na(f[7])),
    });
  }
  return gpus;
}

async function gpuInfo(): Promise<GpuInfo[] | Absent> {
  try {
    const out = await run('nvidia-smi', [`--query-gpu=${GPU_QUERY.join(',')}`, '--format=csv,noheader,nounits']);
    const gpus = parseNvidiaSmiCsv(out);
    return gpus.length ? gpus : { available: false, reason: 'nvidia-smi listed no GPU' };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { available: false, reason: e.code === 'ENOENT' ? 'nvidia-smi not found on PATH' : `nvidia-smi failed: ${e.message.split('\n')[0]}` };
  }
}

async function cpuInfo(): Promise<EnvironmentInfo['cpu']> {
  const logical = cpus().length;
  try {
    const text = await readFile('/proc/cpuinfo', 'utf8');
    const m = /^model name\s*:\s*(.+)$/m.exec(text);
    if (m) return { model: m[1]!.trim(), logical_cores: logical, source: '/proc/cpuinfo' };
  } catch {
    /* not Linux, fall through */
  }
  // Arm (Grace) kernels have no "model name"; lscpu names the core.
  try {
    const out = await run('lscpu', []);
    const m = /^Model name:\s*(.+)$/m.exec(out);
    if (m) return { model: m[1]!.trim(), logical_cores: logical, source: 'lscpu' };
  } catch {
    /* absent */
  }
  const model = cpus()[0]?.model?.trim();
  if (model && model !== 'unknown') return { model, logical_cores: logical, source: 'os.cpus()' };
  return { available: false, reason: 'no CPU model in /proc/cpuinfo, lscpu or os.cpus()' };
}

export async function collectEnvironment(): Promise<EnvironmentInfo> {
  const [gpus, cpu] = await Promise.all([gpuInfo(), cpuInfo()]);
  return {
    hostname: hostname(),
    os: { platform: platform(), release: release(), arch: arch() },
    node: process.version,
    cpu,
    host_memory_bytes: totalmem(),
    gpus,
  };
}
