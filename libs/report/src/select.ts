import { NotFoundError, ValidationError, type ResultsDocument, type RunResult } from '@kvbench/common';
import { runIdOf, workloadIdOf } from './meta.js';
import { isFromOriginalTool } from './original-tool.js';

export interface SelectOptions {
  /** Exactly these runs, in this order. */
  runIds?: readonly string[];
  /** Restrict the default selection to this workload. */
  workloadId?: string;
  /** Whose latest run fixes the workload when none is given (default: pcie if present, else the first label). */
  baseline?: string;
}

/**
 * Runs to compare from a results document. By default the latest run of each
 * system on one workload: the given workload, or that of the baseline system's
 * latest run. `runs.<label>[]` keeps earlier runs first, so the latest is the last.
 */
export function selectRuns(doc: ResultsDocument, opts: SelectOptions = {}): RunResult[] {
  const labels = Object.keys(doc.runs);
  if (opts.runIds && opts.runIds.length > 0) {
    return opts.runIds.map((id) => {
      for (const label of labels) {
        const run = doc.runs[label]!.find((r) => runIdOf(r) === id);
        if (run) return run;
      }
      throw new NotFoundError('run', id);
    });
  }
  if (labels.length === 0) throw new ValidationError('the results document holds no runs', 'runs');
  let workload = opts.workloadId;
  if (workload === undefined) {
    const first = labels.includes(opts.baseline ?? '') ? opts.baseline! : labels.includes('pcie') ? 'pcie' : labels[0]!;
    const latest = doc.runs[first]!.at(-1);
    workload = latest ? (workloadIdOf(latest) ?? undefined) : undefined;
  }
  const picked: RunResult[] = [];
  for (const label of labels) {
    const runs = doc.runs[label]!;
    // Files without workload ids (older tools) can only be compared run against run. The original
    // tool records none: its latest run may be of this workload, which pairing then checks.
    const latest =
      workload === undefined
        ? runs.at(-1)
        : (runs.findLast((r) => workloadIdOf(r) === workload) ?? runs.findLast((r) => isFromOriginalTool(r) && workloadIdOf(r) === null));
    if (latest) picked.push(latest);
  }
  if (picked.length === 0) throw new NotFoundError('runs of workload', workload ?? '(none)');
  return picked;
}
