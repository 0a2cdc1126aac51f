import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { renderLivePage } from '@kvbench/report';
import { clientGone, knownRunOrWait } from './known-run.js';
import { ErrorBody, RunIdParams } from '../api-schemas.js';

/** GET /runs/:id/live — a page that follows /runs/:id/events and plots samples as they arrive. */
const livePageRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/runs/:id/live',
    {
      schema: {
        tags: ['runs'],
        summary: 'Live page of a run (HTML): progress, running TTFT percentiles, samples plotted as they arrive',
        params: RunIdParams,
        response: { 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const runId = req.params.id;
      await knownRunOrWait(app, runId, clientGone(reply.raw));
      // Only the page's own inline script runs, and it may only talk back to this origin.
      const nonce = randomBytes(16).toString('base64');
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:`);
      // A string with an HTML content type bypasses the JSON serializer; the cast only satisfies the typed reply.
      return reply.send(renderLivePage({ runId, eventsUrl: 'events', nonce }) as never);
    },
  );
};
export default livePageRoutes;
