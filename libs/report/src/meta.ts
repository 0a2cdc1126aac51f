import type { RunResult } from '@kvbench/common';

/**
 * run_meta is typed as RunMeta or a free record (older files); these accessors
 * read it without assuming which.
 */
export function runMeta(run: RunResult): Record<string, unknown> {
  return (run.run_meta ?? {}) as Record<string, unknown>;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

export function runIdOf(run: RunResult): string | null {
  return str(runMeta(run).run_id);
}

export function systemLabelOf(run: RunResult): string | null {
  return str(runMeta(run).system_label);
}

export function workloadIdOf(run: RunResult): string | null {
  return str(runMeta(run).workload_id);
}

export function isSimulated(run: RunResult): boolean {
  const m = runMeta(run);
  return m.simulated === true || m.engine === 'sim' || (isRecord(m.engine) && m.engine.kind === 'sim');
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
