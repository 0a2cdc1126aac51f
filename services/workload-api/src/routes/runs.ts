import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorBody } from '../http-errors.js';
import { getRunStatus, listRuns, submitRun, type RunsContext } from '../runs.js';
import { ListRunsQuery, RunAccepted, RunIdParams, RunList, RunRequest, RunStatusBody } from '../schemas.js';

export const runRoutes: FastifyPluginAsyncZod<{ context: () => RunsContext }> = async (app, opts) => {
  app.post(
    '/runs',
    {
      schema: {
        tags: ['runs'],
        summary: "Accept a run and publish it as a job on its system's queue",
        security: [{ bearerAuth: [] }],
        body: RunRequest,
        response: { 202: RunAccepted, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 413: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => reply.code(202).send(await submitRun(opts.context(), req.body)),
  );

  app.get(
    '/runs/:id',
    {
      schema: {
        tags: ['runs'],
        summary: "A run's status (queued, running, completed, failed)",
        params: RunIdParams,
        response: { 200: RunStatusBody, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => getRunStatus(app.bus.runs, req.params.id),
  );

  app.get(
    '/runs',
    {
      schema: {
        tags: ['runs'],
        summary: 'Runs, newest first, optionally filtered by system label and status',
        querystring: ListRunsQuery,
        response: { 200: RunList, 400: ErrorBody },
      },
    },
    async (req) => ({ runs: await listRuns(app.bus.runs, req.query) }),
  );
};
