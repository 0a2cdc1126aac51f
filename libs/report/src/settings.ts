/**
 * Run metadata as a comparison: one row per setting, one column per run, the rows that differ
 * marked. Settings that name the run itself (ids, times) differ by nature and are not marked.
 */
import type { z } from 'zod';
import type { RunResult } from '@kvbench/common';
import type { SettingRowSchema } from './schema.js';
import { isRecord, runMeta } from './meta.js';

export type SettingRow = z.infer<typeof SettingRowSchema>;

/** Shown first, in this order, when present: what decides a comparison's fairness. */
const FIRST = [
  'system_label',
  'simulated',
  'engine.kind',
  'engine.version',
  'engine.reported_engine',
  'engine.profile',
  'time_scale',
  'model',
  'config_module',
  'kv_config',
  'kv_pools',
  'engine_config.kv_cache_config',
  'max_batch_size',
  'max_seq_len',
  'output_tokens',
  'temperature',
  'top_p',
  'environment.gpus',
  'environment.cpu',
  'environment.host_memory_bytes',
  'link_check',
  'kvbench_version',
  'git_commit',
  'workload_id',
  'workload',
  'percentile_method',
  'perf_metrics_join',
  'notes',
];
const IDENTITY = new Set(['system_label', 'run_id', 'attempt', 'started_at', 'ended_at', 'environment.hostname', 'engine.url', 'engine.log_path', 'engine.config_path']);
/** Long verbatim blobs: in the raw JSON, not in the table. */
const SKIP = new Set(['engine_config_yaml', 'engine.argv', 'statistics']);
const MAX_DEPTH = 3;

function flatten(v: unknown, prefix: string, depth: number, out: Map<string, string>): void {
  if (SKIP.has(prefix)) return;
  if (isRecord(v) && depth < MAX_DEPTH && Object.keys(v).length > 0) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, depth + 1, out);
    return;
  }
  if (Array.isArray(v) && v.every(isRecord) && v.length > 0 && v.length <= 8 && depth < MAX_DEPTH) {
    v.forEach((x, i) => flatten(x, `${prefix}[${i}]`, depth + 1, out));
    return;
  }
  out.set(prefix, v === null ? 'null' : typeof v === 'object' ? JSON.stringify(v) : String(v));
}

function rank(setting: string): number {
  const i = FIRST.findIndex((f) => setting === f || setting.startsWith(`${f}.`) || setting.startsWith(`${f}[`));
  return i === -1 ? FIRST.length : i;
}

export function runSettings(runs: readonly (RunResult | undefined)[]): SettingRow[] {
  const flat = runs.map((r) => {
    const out = new Map<string, string>();
    if (r) flatten(runMeta(r), '', 0, out);
    return out;
  });
  const keys = [...new Set(flat.flatMap((m) => [...m.keys()]))];
  keys.sort((a, b) => rank(a) - rank(b) || (rank(a) === FIRST.length ? a.localeCompare(b) : 0));
  return keys.map((setting) => {
    const values = flat.map((m) => m.get(setting) ?? null);
    const identity = IDENTITY.has(setting);
    return { setting, values, differs: runs.length > 1 && new Set(values).size > 1, identity };
  });
}
