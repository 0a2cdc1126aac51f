import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorBody, ResultsQuery, ResultsResponse } from '../api-schemas.js';
import { getResultsSummary, resultsJsonChunks } from '../store/results.js';

const resultsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/results',
    {
      schema: {
        tags: ['results'],
        summary: 'Completed runs merged in the original benchmark_results.json shape',
        description:
          'runs.<system_label>[] with aggregate, log_metrics, samples and run_meta; only the attempt that completed. ' +
          'summary=true omits samples.',
        querystring: ResultsQuery,
        response: { 200: ResultsResponse, 400: ErrorBody },
      },
    },
    async (req, reply) => {
      const { summary, ...filter } = req.query;
      if (summary) return getResultsSummary(app.db, filter);
      // Streamed: samples are copied as stored, never held whole in memory.
      reply.type('application/json; charset=utf-8');
      // A stream bypasses the response serializer; the schema above documents its content.
      return reply.send(Readable.from(resultsJsonChunks(app.db, filter)) as never);
    },
  );
};
export default resultsRoutes;
