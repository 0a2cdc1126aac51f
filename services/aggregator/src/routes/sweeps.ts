import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { NotFoundError } from '@kvbench/common';
import { renderSweepReport, sweepReport, isSimulated, SweepReportSchema } from '@kvbench/report';
import { ErrorBody } from '../api-schemas.js';
import { loadRunResults } from './compare-runs.js';
import { listCompletedRuns } from '../store/results.js';

const SweepParams = z.object({ id: z.string().regex(/^[A-Za-z0-9_.:-]{1,120}$/, 'letters, digits and _ . : -, at most 120 characters').describe('sweep id (run_meta.workload.sweep.id), as `kvbench sweep` printed it (--sweep_id)').meta({ examples: ['sw-offload-20261206T181500-p2x7'] }) });
const SweepQuery = z.object({
  baseline: z.string().min(1).max(100).optional().describe('system label the capacity sweep ratios are taken against (default: pcie if present)'),
  resamples: z.coerce.number().int().min(1000).max(20_000).default(2000).describe('bootstrap resamples of every interval'),
  seed: z.coerce.number().int().min(0).max(2 ** 31).default(1).describe('bootstrap seed: the same seed and runs give the same intervals'),
});

/** The same policy as /compare.html: no script, nothing loaded. */
const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const sweepRoutes: FastifyPluginAsyncZod = async (app) => {
  const report = (id: string, q: z.infer<typeof SweepQuery>) => {
    // Sweeps are few and their runs small in number: the completed runs' metadata is filtered here.
    const runs = listCompletedRuns(app.db).filter((r) => {
      const w = (r.run_meta as Record<string, unknown>)['workload'] as { sweep?: { id?: unknown } } | undefined;
      return w?.sweep?.id === id;
    });
    if (runs.length === 0) throw new NotFoundError('sweep', id);
    const results = loadRunResults(app.db, runs);
    return { results, report: sweepReport(results, { sweepId: id, baseline: q.baseline, resamples: q.resamples, seed: q.seed }) };
  };
  app.get(
    '/sweeps/:id',
    {
      schema: {
        tags: ['compare'],
        summary: 'A sweep\u2019s report: capacity (TTFT and hit rate against working set) or offload vs recompute (by prompt length, with the link bound)',
        params: SweepParams,
        querystring: SweepQuery,
        response: { 200: SweepReportSchema, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => report(req.params.id, req.query).report,
  );
  app.get(
    '/sweeps/:id/report.html',
    { schema: { tags: ['compare'], summary: 'The sweep report as one self-contained HTML page', params: SweepParams, querystring: SweepQuery, response: { 400: ErrorBody, 404: ErrorBody } } },
    async (req, reply) => {
      const { results, report: r } = report(req.params.id, req.query);
      reply.type('text/html; charset=utf-8').header('content-security-policy', REPORT_CSP);
      return reply.send(renderSweepReport(r, { generatedAt: new Date().toISOString(), simulated: results.some(isSimulated) }) as never);
    },
  );
};
export default sweepRoutes;
