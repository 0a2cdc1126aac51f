import { readFile, writeFile } from 'node:fs/promises';
import { NotFoundError, ValidationError, parseResultsFile } from '@kvbench/common';
import { compareRuns, pairOriginalToolRuns, parseBucket, parseSlo, renderComparisonTable, renderHtmlReport, renderSweepReport, renderSweepTable, resultsDocumentOf, selectRuns, sweepIds, sweepReport } from '@kvbench/report';
import { parseFlags, usage, type FlagSpecs } from '../args.js';
import type { Command } from '../command.js';

const flags: FlagSpecs = {
  baseline: { type: 'string', help: 'system label or run id every other run is compared against (default: pcie if present, else the first)' },
  html: { type: 'string', help: 'also write the self-contained HTML report (charts, table, run metadata) to this file' },
  runs: { type: 'string', help: 'comma-separated run ids to compare (default: the latest run of each system on one workload)' },
  workload_id: { type: 'string', help: 'compare the latest runs of this workload (default: the baseline system\'s latest workload)' },
  resamples: { type: 'int', default: 2000, help: 'bootstrap resamples (at least 1000)' },
  seed: { type: 'int', default: 1, help: 'bootstrap seed' },
  sweep: { type: 'string', help: 'report a sweep (kvbench sweep capacity|offload) instead: its id, or "latest"' },
  min_effect: { type: 'float', default: 0.05, help: 'practical threshold as a fraction (0.05 = 5%): a difference is called only when its interval excludes 1 and it is at least this large' },
  bucket: { type: 'string', help: "row grouping: 'exact' context sizes, 'pow2' length buckets (default for trace runs) or a bucket width in tokens" },
  slo: { type: 'string', help: 'objectives for goodput, e.g. ttft_ms=500,latency_ms=2000: requests per second meeting every one' },
};

const SUMMARY = 'paired comparison of runs in a results file, with bootstrap confidence intervals; optional HTML report';

export const reportCommand: Command = {
  names: [['report']],
  summary: SUMMARY,
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(usage('report <benchmark_results.json>', SUMMARY, flags));
      return 0;
    }
    const { flags: f, positionals } = parseFlags(argv, flags);
    if (positionals.length > 1) throw new ValidationError(`one results file expected, got ${positionals.length}`, 'file');
    const path = positionals[0] ?? 'benchmark_results.json';
    // kvbench's runs and the original tool's alike; the latter as marked views.
    const doc = resultsDocumentOf(parseResultsFile(await readJson(path), `results file ${path}`));
    if (typeof f.sweep === 'string') {
      const all = Object.values(doc.runs).flat();
      const ids = sweepIds(all);
      const id = f.sweep === 'latest' ? ids.at(-1) : f.sweep;
      if (!id || !ids.includes(id)) throw new NotFoundError('sweep', f.sweep === 'latest' ? '(any)' : f.sweep);
      const report = sweepReport(all, { sweepId: id, baseline: f.baseline as string | undefined, resamples: f.resamples as number, seed: f.seed as number });
      console.log(renderSweepTable(report));
      if (typeof f.html === 'string') {
        const simulated = all.some((r) => (r.run_meta as Record<string, unknown>)['simulated'] === true);
        await writeFile(f.html, renderSweepReport(report, { generatedAt: new Date().toISOString(), simulated }));
        console.error(`wrote ${f.html}`);
      }
      return 0;
    }
    const runIds = typeof f.runs === 'string' ? f.runs.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    const baseline = f.baseline as string | undefined;
    const runs = pairOriginalToolRuns(selectRuns(doc, { runIds, workloadId: f.workload_id as string | undefined, baseline }));
    const slo = typeof f.slo === 'string' ? parseSlo(f.slo, 'slo') : undefined;
    const bucket = typeof f.bucket === 'string' ? parseBucket(f.bucket, 'bucket') : undefined;
    const comparison = compareRuns(runs, {
      baseline,
      resamples: f.resamples as number,
      seed: f.seed as number,
      minEffect: f.min_effect as number,
      ...(bucket !== undefined ? { bucket } : {}),
      ...(slo ? { slo } : {}),
    });
    console.log(renderComparisonTable(comparison));
    if (typeof f.html === 'string') {
      await writeFile(f.html, renderHtmlReport(runs, comparison, { generatedAt: new Date().toISOString() }));
      console.error(`wrote ${f.html}`);
    }
    return 0;
  },
};

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError('results file', path, { cause: err });
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${path} is not valid JSON`, 'file', { cause: err });
  }
}
