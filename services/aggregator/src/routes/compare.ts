import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { RunId, ValidationError, type RunResult } from '@kvbench/common';
import { compareRuns, parseSlo, renderHtmlReport, sloText } from '@kvbench/report';
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
  slo: z.string().min(1).max(200).optional().describe('objectives for goodput, as the CLI\'s --slo: ttft_ms=500,latency_ms=2000 (a request counts when it meets every one)'),
});

const nn = z.number().nullable();
const Band = z.object({ value: nn, low: nn, high: nn });
const LruResult = z.object({ lookups: z.number(), gpu_hits: z.number(), host_hits: z.number(), hit_rate: nn, gpu_hit_rate: nn });
const Percentiles = z.object({ p50: nn, p95: nn, p99: nn });
const MetricRatio = z.object({
  metric: z.string(),
  name: z.string(),
  kind: z.enum(['paired', 'run-level']),
  ratio: nn,
  ci_low: nn,
  ci_high: nn,
  significant: z.boolean().nullable(),
  verdict: z.string(),
});
export const ComparisonResponse = z.object({
  baseline: z.string(),
  systems: z.array(
    z.object({ key: z.string(), label: z.string(), run_id: z.string().nullable(), workload_id: z.string().nullable(), simulated: z.boolean(), null_reasons: z.record(z.string(), z.string()) }),
  ),
  rows: z.array(
    z.object({
      context_tokens: z.number().nullable(),
      phase: z.enum(['cold', 'reuse', 'all']),
      systems: z.record(
        z.string(),
        z.object({
          n: z.number(),
          n_failed: z.number(),
          ttft_s: Percentiles,
          latency_s: Percentiles,
          throughput_req_per_s: nn,
          cache_hit_rate: nn,
          offloaded_blocks: nn,
          onboarded_blocks: nn,
          offload_bandwidth_gbps: nn,
        }),
      ),
      vs_baseline: z.array(
        z.object({
          system: z.string(),
          baseline: z.string(),
          paired: z.number(),
          unpaired: z.object({ baseline_only: z.number(), system_only: z.number(), failed: z.number() }),
          metrics: z.array(MetricRatio),
        }),
      ),
    }),
  ),
  method: z.object({ pairing: z.string(), bootstrap: z.string(), resamples: z.number(), seed: z.string(), confidence: z.number(), percentile_method: z.string() }),
  notes: z.array(z.string()),
  breakdown: z.array(
    z.object({
      context_tokens: z.number().nullable(),
      phase: z.enum(['cold', 'reuse', 'all']),
      systems: z.record(
        z.string(),
        z.object({
          n: z.number(),
          n_complete: z.number(),
          ttft_p50_s: nn,
          part_p50_s: z.record(z.string(), nn),
          median_split: z.object({ n: z.number(), ttft_mean_s: nn, parts: z.array(z.object({ part: z.string(), seconds: z.number() })) }).nullable(),
          null_reasons: z.record(z.string(), z.string()),
        }),
      ),
      vs_baseline: z.array(
        z.object({ system: z.string(), baseline: z.string(), parts: z.array(z.object({ part: z.string(), paired: z.number(), ratio: nn, ci_low: nn, ci_high: nn })) }),
      ),
    }),
  ),
  goodput: z
    .object({
      slo: z.object({ ttft_ms: z.number().optional(), latency_ms: z.number().optional() }),
      systems: z.record(z.string(), z.object({ requests: z.number(), met: z.number(), share: nn, window_s: z.number(), goodput_req_per_s: nn })),
      vs_baseline: z.array(z.object({ system: z.string(), baseline: z.string(), paired: z.number(), ratio: nn, ci_low: nn, ci_high: nn, verdict: z.string() })),
    })
    .nullable(),
  hit_rate: z.array(
    z.object({
      system: z.string(),
      pools: z.object({ tokens_per_block: z.number(), gpu_blocks: z.number(), host_blocks: nn, source: z.string(), null_reasons: z.record(z.string(), z.string()) }).nullable(),
      gpu_only: LruResult.nullable(),
      gpu_and_host: LruResult.nullable(),
      infinite: LruResult.nullable(),
      measured: nn,
      difference: nn,
      disagrees: z.boolean().nullable(),
      note: z.string(),
      null_reasons: z.record(z.string(), z.string()),
    }),
  ),
  settings: z.array(z.object({ setting: z.string(), values: z.array(z.string().nullable()), differs: z.boolean(), identity: z.boolean() })),
  scenarios: z.object({
    multiturn: z
      .object({
        turns: z.array(z.number()),
        systems: z.record(z.string(), z.array(z.object({ turn: z.number(), n: z.number(), ttft_p50_s: Band, ttft_p90_s: Band, hit_rate: nn }))),
        vs_baseline: z.array(
          z.object({ system: z.string(), baseline: z.string(), points: z.array(z.object({ turn: z.number(), paired: z.number(), ratio: nn, ci_low: nn, ci_high: nn })) }),
        ),
      })
      .nullable(),
    trace: z
      .object({ systems: z.record(z.string(), z.object({ n: z.number(), cdf: z.array(z.tuple([z.number(), z.number()])), over_time: z.array(z.tuple([z.number(), z.number()])) })) })
      .nullable(),
  }),
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
    const key = JSON.stringify([selected.map((r) => `${r.run_id}@${r.attempt}`), q.baseline ?? null, q.resamples ?? null, q.seed ?? null, slo ? sloText(slo) : null]);
    return cache.getOrCompute(key, () => {
      const runs = loadRunResults(app.db, selected);
      return { runs, comparison: compareRuns(runs, { baseline: q.baseline, resamples: q.resamples, seed: q.seed, ...(slo ? { slo } : {}) }) };
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
        response: { 200: ComparisonResponse, 400: ErrorBody, 404: ErrorBody },
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
