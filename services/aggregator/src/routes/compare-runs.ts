import type { Database } from 'better-sqlite3';
import { NotFoundError, type RunResult } from '@kvbench/common';
import { getRunResult, latestRunsByWorkload, listCompletedRuns } from '../store/results.js';

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
 */
export function runsForComparison(db: Database, sel: CompareSelection): RunResult[] {
  if (sel.runs && sel.runs.length > 0) {
    return sel.runs.map((id) => {
      const run = getRunResult(db, id);
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
  return latest.map((r) => getRunResult(db, r.run_id)!);
}
