import type { Database } from 'better-sqlite3';
import { NotFoundError, coarsenTelemetry, type RunResult } from '@kvbench/common';
import { iterateSamples, latestRunsByWorkload, listCompletedRuns, type CompletedRun } from '../store/results.js';
import { telemetryPoints, telemetrySummary } from '../store/telemetry.js';

export interface CompareSelection {
  /** Run ids to compare, in this order. */
  runs?: string[] | undefined;
  workload_id?: string | undefined;
  /** A system label: whose latest workload is compared when no workload is named. */
  baseline?: string | undefined;
}

/**
 * The completed runs a comparison covers: the named runs, or the latest run of
 * each system on one workload (the one named, else the workload of the
 * baseline system's latest completed run, else of the latest completed run).
 * Only their metadata: samples are loaded by loadRunResults.
 */
export function selectRunsForComparison(db: Database, sel: CompareSelection): CompletedRun[] {
  if (sel.runs && sel.runs.length > 0) {
    return sel.runs.map((id) => {
      const [run] = listCompletedRuns(db, { run_id: id });
      if (!run) throw new NotFoundError('completed run', id);
      return run;
    });
  }
  let workload = sel.workload_id;
  if (workload === undefined) {
    const done = listCompletedRuns(db).filter((r) => r.workload_id !== null);
    const ofBaseline = done.filter((r) => r.system_label === (sel.baseline ?? 'pcie'));
    const pool = ofBaseline.length > 0 ? ofBaseline : done;
    const latest = pool.reduce<(typeof pool)[number] | undefined>((a, b) => (!a || b.completed_at > a.completed_at ? b : a), undefined);
    if (!latest) throw new NotFoundError('completed runs', '(any workload)');
    workload = latest.workload_id!;
  }
  const latest = latestRunsByWorkload(db, workload);
  if (latest.length === 0) throw new NotFoundError('completed runs of workload', workload);
  return latest;
}

/** The selected runs with their samples, in the results-document shape. */
export function loadRunResults(db: Database, runs: readonly CompletedRun[]): RunResult[] {
  return runs.map((run) => ({
    aggregate: run.aggregate,
    log_metrics: run.log_metrics,
    samples: [...iterateSamples(db, run.run_id, run.attempt)],
    run_meta: run.run_meta,
    // Link telemetry (issue 23): the summary and the series, for the report's link chart.
    telemetry: telemetrySummary(db, run.run_id, run.attempt),
    telemetry_series: coarsenTelemetry([...telemetryPoints(db, run.run_id, run.attempt)]),
  }));
}

/** Both steps, for callers that do not cache. */
export function runsForComparison(db: Database, sel: CompareSelection): RunResult[] {
  return loadRunResults(db, selectRunsForComparison(db, sel));
}
