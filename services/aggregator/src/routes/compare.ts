import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { RunId, ValidationError, type RunResult } from '@kvbench/common';
import { compareRuns, ComparisonSchema, DEFAULT_MIN_EFFECT, parseBucket, parseSlo, renderHtmlReport, sloText } from '@kvbench/report';
import { ErrorBody } from '../api-schemas.js';
import { loadRunResults, selectRunsForComparison } from './compare-runs.js';
import { ComparisonCache } from './comparison-cache.js';

const MAX_RUNS = 16;

export const CompareQuery = z.object({
  workload_id: z.string().min(1).max(200).optional().describe('compare the latest run of each system on this workload'),
  runs: z.string().min(1).max(MAX_RUNS * 65).optional().describe('comma-separated run ids (instead of workload_id)'),
  baseline: z.string().min(1).max(100).optional().describe('system label or run id of the baseline (default: pcie if present, else the first)'),
  resamples: z.coerce.number().int().min(1000).max(20_000).default(2000).describe('bootstrap resamples'),
  seed: z.coerce.number().int().min(0).max(2 ** 31).default(1).describe('bootstrap seed'),
  min_effect: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(DEFAULT_MIN_EFFECT)
    .describe('practical threshold as a fraction (0.05 = 5%): a difference is called only when its interval excludes 1 and it is at least this large'),
  bucket: z.string().min(1).max(20).optional().describe("row grouping: 'exact' context sizes, 'pow2' length buckets (the default for trace runs) or a bucket width in tokens"),
  slo: z.string().min(1).max(200).optional().describe('objectives for goodput, as the CLI\'s --slo: ttft_ms=500,latency_ms=2000 (a request counts when it meets every one)'),
});

function parseRunIds(runs: string | undefined): string[] | undefined {
  if (runs === undefined) return undefined;
  const ids = runs.split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length > MAX_RUNS) throw new ValidationError(`at most ${MAX_RUNS} runs can be compared`, 'runs');
  ids.forEach((id, i) => {
    if (!RunId.safeParse(id).success) throw new ValidationError(`runs.${i}: '${id.slice(0, 70)}' is not a run id`, `runs.${i}`);
  });
  return ids;
}

/** The report has no script and loads nothing: the policy says so, as a second line of defence. */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const compareRoutes: FastifyPluginAsyncZod = async (app) => {
  // A completed run never changes (a later attempt is another key), so neither does its comparison:
  // the bootstrap is paid once per set of runs, not on every page view.
  const cache = new ComparisonCache<{ runs: RunResult[]; comparison: ReturnType<typeof compareRuns> }>(16);
  const compare = (q: z.infer<typeof CompareQuery>) => {
    const selected = selectRunsForComparison(app.db, { runs: parseRunIds(q.runs), workload_id: q.workload_id, baseline: q.baseline });
    const slo = q.slo === undefined ? undefined : parseSlo(q.slo, 'slo');
    const bucket = q.bucket === undefined ? undefined : parseBucket(q.bucket, 'bucket');
    const key = JSON.stringify([selected.map((r) => `${r.run_id}@${r.attempt}`), q.baseline ?? null, q.resamples ?? null, q.seed ?? null, slo ? sloText(slo) : null, q.min_effect, bucket ?? null]);
    return cache.getOrCompute(key, () => {
      const runs = loadRunResults(app.db, selected);
      return { runs, comparison: compareRuns(runs, { baseline: q.baseline, resamples: q.resamples, seed: q.seed, minEffect: q.min_effect, ...(bucket !== undefined ? { bucket } : {}), ...(slo ? { slo } : {}) }) };
    });
  };

  app.get(
    '/compare',
    {
      schema: {
        tags: ['compare'],
        summary: 'Paired comparison of runs with bootstrap confidence intervals',
        description:
          'By default the latest completed run of each system on one workload; or the runs named. Rows per context size and ' +
          'phase (cold, reuse) plus all requests; each system against the baseline, ratio = system / baseline with a paired ' +
          'bootstrap interval over the requests present on both runs.',
        querystring: CompareQuery,
        response: { 200: ComparisonSchema, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => compare(req.query).comparison,
  );

  app.get(
    '/compare.html',
    {
      schema: {
        tags: ['compare'],
        summary: 'The comparison as one self-contained HTML page (charts, table, run metadata)',
        querystring: CompareQuery,
        response: { 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const { runs, comparison } = compare(req.query);
      reply.type('text/html; charset=utf-8').header('content-security-policy', REPORT_CSP);
      // A string with an HTML content type bypasses the JSON serializer; the cast only satisfies the typed reply.
      return reply.send(renderHtmlReport(runs, comparison, { generatedAt: new Date().toISOString() }) as never);
    },
  );
};
export default compareRoutes;
