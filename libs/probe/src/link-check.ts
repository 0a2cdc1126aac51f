/**
 * Link check for the host agent: the probe in its quick mode (a few pinned copy sizes, the KV
 * block sizes of one model shape in both layouts, one bidirectional copy; about 6 s on an H100
 * including PyTorch's start), summarised into a small object to store in run_meta.
 */
import { z } from 'zod';
import { parseProbeRawText, type ProbeRaw } from './raw.js';
import { PROBE_EXIT, runProbe, type RunProbeOptions } from './run.js';

const GBps = z.number().positive();
const SizeRate = z.tuple([z.number().int().positive(), GBps]);

export const LinkCheckStatus = z.enum(['ok', 'no_cuda', 'no_torch', 'timeout', 'error']);
export type LinkCheckStatus = z.infer<typeof LinkCheckStatus>;

/** What `linkCheck` returns: small, JSON-serialisable, for run_meta.link_check. */
export const LinkCheckResult = z
  .object({
    schema: z.literal('kvbench.link-check'),
    version: z.literal(1),
    status: LinkCheckStatus,
    /** One line saying what happened (always set unless status is ok). */
    message: z.string().optional(),
    /** ISO time the check started. */
    at: z.string(),
    /** Wall time of the whole check (PyTorch import included), seconds. */
    duration_s: z.number().nonnegative(),
    gpu: z.string().optional(),
    driver: z.string().optional(),
    /** nvidia-smi's PCIe link, current and max. */
    pcie: z
      .object({
        gen_current: z.number().int().nullable(),
        gen_max: z.number().int().nullable(),
        width_current: z.number().int().nullable(),
        width_max: z.number().int().nullable(),
      })
      .optional(),
    /** Pinned single copies: `[bytes, GB/s]` per direction. */
    pinned: z.object({ h2d: z.array(SizeRate), d2h: z.array(SizeRate) }).optional(),
    /** KV block copies of the shape, one stream. */
    blocks: z
      .array(z.object({ layout: z.string(), shape: z.string().optional(), block_bytes: z.number().int().positive(), h2d_GBps: GBps.optional(), d2h_GBps: GBps.optional() }))
      .optional(),
    bidirectional_total_GBps: GBps.optional(),
    torch: z.string().optional(),
  })
  .strict();
export type LinkCheckResult = z.infer<typeof LinkCheckResult>;

export interface LinkCheckOptions extends Omit<RunProbeOptions, 'onStderr'> {
  /** Model shape whose KV block sizes are copied (default llama-3.1-8b). */
  modelShape?: string;
  tokensPerBlock?: number;
  /** Default 60 s: the check itself takes well under 20 s on a CUDA machine. */
  timeoutMs?: number;
}

/** Summarise quick probe output into a LinkCheckResult. */
export function summarizeLinkCheck(raw: ProbeRaw, at: string, durationS: number): LinkCheckResult {
  const g = raw.environment.gpus[0];
  const rows = (dir: 'h2d' | 'd2h'): Array<[number, number]> =>
    raw.copies.filter((c) => c.pinned && c.dir === dir).sort((a, b) => a.bytes - b.bytes).map((c) => [c.bytes, c.GBps]);
  const blocks = new Map<string, { layout: string; shape?: string; block_bytes: number; h2d_GBps?: number; d2h_GBps?: number }>();
  for (const b of raw.block_copies.filter((x) => x.streams === 1)) {
    const key = `${b.layout}:${b.shape ?? ''}:${b.block_bytes}`;
    const e = blocks.get(key) ?? { layout: b.layout, ...(b.shape ? { shape: b.shape } : {}), block_bytes: b.block_bytes };
    e[b.dir === 'h2d' ? 'h2d_GBps' : 'd2h_GBps'] = b.GBps;
    blocks.set(key, e);
  }
  const bidir = raw.bidirectional.find((b) => b.kind === 'single');
  const failed = raw.errors.length ? `; ${raw.errors.length} section(s) failed: ${raw.errors.map((e) => `${e.section}: ${e.error}`).join('; ')}` : '';
  return LinkCheckResult.parse({
    schema: 'kvbench.link-check',
    version: 1,
    status: rows('h2d').length && rows('d2h').length ? 'ok' : 'error',
    ...(failed || !(rows('h2d').length && rows('d2h').length) ? { message: `probe ran${failed || ' but measured no pinned copy'}` } : {}),
    at,
    duration_s: Math.round(durationS * 10) / 10,
    gpu: raw.environment.device.name,
    ...(g ? { driver: g.driver, pcie: { gen_current: g.pcie_gen_current, gen_max: g.pcie_gen_max, width_current: g.pcie_width_current, width_max: g.pcie_width_max } } : {}),
    pinned: { h2d: rows('h2d'), d2h: rows('d2h') },
    blocks: [...blocks.values()],
    ...(bidir ? { bidirectional_total_GBps: bidir.total_GBps } : {}),
    torch: raw.environment.torch,
  });
}

const firstLine = (s: string): string =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('[kvbench probe]'))
    .slice(-1)[0] ?? '';

/**
 * Run the probe's quick mode with python3 (no shell) and summarise it. Never throws: a machine
 * without a CUDA device (or without PyTorch, or python3) gives a result with that status.
 */
export async function linkCheck(options: LinkCheckOptions = {}): Promise<LinkCheckResult> {
  const at = new Date().toISOString();
  const t0 = performance.now();
  const args = ['--quick', '--model_shape', options.modelShape ?? 'llama-3.1-8b', '--tokens_per_block', String(options.tokensPerBlock ?? 64)];
  const r = await runProbe(args, { ...options, timeoutMs: options.timeoutMs ?? 60_000 });
  const duration = (performance.now() - t0) / 1e3;
  const base = { schema: 'kvbench.link-check' as const, version: 1 as const, at, duration_s: Math.round(duration * 10) / 10 };
  if (r.spawnError) return { ...base, status: 'error', message: `could not start ${options.python ?? 'python3'}: ${r.spawnError.message}` };
  if (r.timedOut) return { ...base, status: 'timeout', message: `link check killed after ${(options.timeoutMs ?? 60_000) / 1000} s` };
  if (r.code === PROBE_EXIT.noCuda) return { ...base, status: 'no_cuda', message: firstLine(r.stderr) || 'no CUDA device' };
  if (r.code === PROBE_EXIT.noTorch) return { ...base, status: 'no_torch', message: firstLine(r.stderr) || 'PyTorch is not installed' };
  if (r.code !== 0) return { ...base, status: 'error', message: `probe exited with ${r.code ?? r.signal}: ${firstLine(r.stderr)}`.slice(0, 500) };
  try {
    return summarizeLinkCheck(parseProbeRawText(r.stdout, 'link-check output'), at, duration);
  } catch (err) {
    return { ...base, status: 'error', message: `unreadable probe output: ${(err as Error).message}`.slice(0, 500) };
  }
}
