/**
 * A virtual-clock run's results file holds only what the model determined, so the same seed gives the
 * same file byte for byte (docs/DESIGN.md, "Virtual clock": "Results file and provenance"). When and
 * where each execution ran — its run id, dates, host, engine URL, ports and paths, how often the
 * statistics were polled — goes to the provenance file beside it, one entry per execution, keyed by
 * the result's id (a hash of the result), so executions stay told apart and each result finds its
 * executions. Real-time runs are measurements of one execution: they are written whole, as before.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { RunResult } from '@kvbench/common';

/** run_meta fields that say when and where a run was made, not what it measured. */
const META_FIELDS = ['run_id', 'started_at', 'ended_at', 'environment'] as const;
/** run_meta.engine fields of this execution: its URL (port), argv and files under the run's directory. */
const ENGINE_FIELDS = ['url', 'argv', 'log_path', 'config_path'] as const;
/** run_meta.statistics fields that count real-time polls, not modelled events. */
const STATISTICS_FIELDS = ['metrics_reads'] as const;

/** One execution of a virtual run, as the provenance file keeps it. */
export interface ExecutionProvenance {
  result_id: string;
  system_label: string;
  run_id: unknown;
  started_at: unknown;
  ended_at: unknown;
  environment: unknown;
  engine: Record<string, unknown>;
  statistics: Record<string, unknown>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A virtual-clock run (run_meta.clock "virtual"): its results-file entry is modelled content only. */
export function isVirtualRun(run: RunResult): boolean {
  return isRecord(run.run_meta) && run.run_meta['clock'] === 'virtual';
}

/** benchmark_results.json → benchmark_results.provenance.json */
export function provenanceFileName(resultsPath: string): string {
  const base = basename(resultsPath);
  const stem = base.toLowerCase().endsWith('.json') ? base.slice(0, -5) : base;
  return `${stem}.provenance.json`;
}

/** Moves `keys` of `from` into a new object (absent keys stay absent). */
function take(from: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (k in from) {
      out[k] = from[k];
      delete from[k];
    }
  }
  return out;
}

/**
 * The results-file entry of a virtual run and this execution's provenance. The entry's run_id is the
 * result's id, `v-` and 16 hex digits of the SHA-256 of the entry written without it, so equal results
 * have equal ids and a changed figure changes the id.
 */
export function splitProvenance(run: RunResult, systemLabel: string, provenanceFile: string): { result: RunResult; provenance: ExecutionProvenance } {
  const meta: Record<string, unknown> = structuredClone(run.run_meta as Record<string, unknown>);
  const own = take(meta, META_FIELDS);
  const engine = isRecord(meta['engine']) ? take(meta['engine'], ENGINE_FIELDS) : {};
  const statistics = isRecord(meta['statistics']) ? take(meta['statistics'], STATISTICS_FIELDS) : {};
  meta['provenance'] = {
    file: provenanceFile,
    note: 'virtual clock: this entry holds only modelled content (the same seed gives the same bytes); run ids, dates, host, engine URL and paths of each execution are in the provenance file, under this run_id as result_id',
  };
  const withoutId: RunResult = { ...run, run_meta: meta };
  const resultId = `v-${createHash('sha256').update(JSON.stringify(withoutId)).digest('hex').slice(0, 16)}`;
  const result: RunResult = { ...run, run_meta: { run_id: resultId, ...meta } };
  return {
    result,
    provenance: { result_id: resultId, system_label: systemLabel, run_id: own['run_id'], started_at: own['started_at'], ended_at: own['ended_at'], environment: own['environment'] ?? null, engine, statistics },
  };
}
