import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { clientGone, knownRunOrWait } from './known-run.js';
import { ErrorBody, RunDetail, RunIdParams, RunList, RunsQuery } from '../api-schemas.js';
import { listRuns } from '../store/runs.js';
import { runWithLogTails } from './log-tails.js';

const runsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/runs',
    { schema: { tags: ['runs'], summary: 'Runs, newest first', querystring: RunsQuery, response: { 200: RunList, 400: ErrorBody } } },
    async (req) => ({ runs: listRuns(app.db, req.query) }),
  );

  app.get(
    '/runs/:id',
    {
      schema: {
        tags: ['runs'],
        summary: 'One run: status, every attempt (abandoned ones marked), samples expected and received, aggregate',
        params: RunIdParams,
        response: { 200: RunDetail, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => runWithLogTails(await knownRunOrWait(app, req.params.id, clientGone(reply.raw)), app.logTailsShown),
  );
};
export default runsRoutes;
