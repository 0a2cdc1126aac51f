import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { NotFoundError, telemetryCsv } from '@kvbench/common';
import { ErrorBody, RunIdParams, RunTelemetryResponse } from '../api-schemas.js';
import { getRun } from '../store/runs.js';
import { telemetryPoints, telemetrySummary } from '../store/telemetry.js';

/** A run's link and GPU telemetry (issue 23), the attempt in results once completed, else the current one. */
const telemetryRoutes: FastifyPluginAsyncZod = async (app) => {
  const attemptOf = (runId: string) => {
    const run = getRun(app.db, runId);
    if (!run) throw new NotFoundError('run', runId);
    return run.result_attempt ?? run.current_attempt;
  };
  app.get(
    '/runs/:id/telemetry',
    {
      schema: {
        tags: ['results'],
        summary: "A run's link and GPU telemetry: one point per period per GPU, and the summary",
        description:
          'PCIe/C2C bytes per period (tx = sent by the GPU, offload; rx = received, onboard), utilisation, SM clock, power, ' +
          'energy and memory; summary has the source, link-level offload/onboard bytes and bandwidth, energy per request and ' +
          "per token, peak memory and the link's bytes beside the engine's. Simulator runs are labelled simulated.",
        params: RunIdParams,
        response: { 200: RunTelemetryResponse, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const attempt = attemptOf(req.params.id);
      return {
        run_id: req.params.id,
        attempt,
        summary: attempt === null ? null : telemetrySummary(app.db, req.params.id, attempt),
        points: attempt === null ? [] : [...telemetryPoints(app.db, req.params.id, attempt)],
      };
    },
  );
  app.get(
    '/runs/:id/telemetry.csv',
    { schema: { tags: ['results'], summary: "A run's telemetry series as CSV (one row per period per GPU)", params: RunIdParams, response: { 400: ErrorBody, 404: ErrorBody } } },
    async (req, reply) => {
      const attempt = attemptOf(req.params.id);
      const csv = telemetryCsv(attempt === null ? [] : telemetryPoints(app.db, req.params.id, attempt));
      reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${req.params.id}-telemetry.csv"`);
      return reply.send(csv as never);
    },
  );
};
export default telemetryRoutes;
