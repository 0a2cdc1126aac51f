import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorBody } from '../http-errors.js';
import { cancelRun, getRunStatus, listRuns, liveAgents, submitRun, type RunsContext } from '../runs/index.js';
import { AgentList, CancelResult, ListRunsQuery, RunAccepted, RunIdParams, RunList, RunRequest, RunStatusBody } from '../schemas.js';

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

  app.post(
    '/runs/:id/cancel',
    {
      schema: {
        tags: ['runs'],
        summary: 'Cancel a queued run (taken off its queue) or a running one (its agent stops the engine); 409 once finished',
        security: [{ bearerAuth: [] }],
        params: RunIdParams,
        response: { 200: CancelResult, 202: CancelResult, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const out = await cancelRun(opts.context(), req.params.id);
      // 200: done; 202: the agent is on it (GET /runs/:id shows `cancelled` once it stopped).
      return reply.code(out.status === 'cancelled' ? 200 : 202).send({ ...out, status_url: `/runs/${out.run_id}` });
    },
  );

  app.get(
    '/agents',
    {
      schema: {
        tags: ['agents'],
        summary: 'Host agents with a recent heartbeat: system label, host, GPUs, engines, version, state',
        response: { 200: AgentList, 503: ErrorBody },
      },
    },
    async () => ({ agents: await liveAgents(app.bus.jsm, app.bus.agents, new Date()) }),
  );

  app.get(
    '/runs/:id',
    {
      schema: {
        tags: ['runs'],
        summary: "A run's status (queued, running, completed, failed, cancelled)",
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
