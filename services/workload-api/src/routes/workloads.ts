import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Limits } from '../config.js';
import { ErrorBody } from '../http-errors.js';
import { CreateWorkloadBody, GetWorkloadQuery, WorkloadIdParams, WorkloadSummaryBody } from '../schemas.js';
import { createWorkload, getWorkloadSummary, getWorkloadText, type CreateWorkload } from '../workloads.js';

export const workloadRoutes: FastifyPluginAsyncZod<{ limits: Limits }> = async (app, opts) => {
  app.post(
    '/workloads',
    {
      schema: {
        tags: ['workloads'],
        summary: 'Generate a workload from parameters, or upload one (native or original format)',
        description: 'Stores the native document under its content id: the same content always gets the same id.',
        security: [{ bearerAuth: [] }],
        body: CreateWorkloadBody,
        response: { 201: WorkloadSummaryBody, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 413: ErrorBody },
      },
    },
    async (req, reply) => {
      const summary = await createWorkload(app.bus.workloads, req.body as CreateWorkload, opts.limits);
      return reply.code(201).send(summary);
    },
  );

  app.get(
    '/workloads/:id',
    {
      schema: {
        tags: ['workloads'],
        summary: 'A stored workload: its summary, and with ?full=true the native document',
        params: WorkloadIdParams,
        querystring: GetWorkloadQuery,
        response: {
          200: WorkloadSummaryBody.extend({ document: z.unknown().optional().describe('the native document (only with full=true)') }).meta({
            examples: WorkloadSummaryBody.meta()?.examples,
          }),
          400: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (req, reply) => {
      const summary = await getWorkloadSummary(app.bus.workloads, req.params.id);
      if (!req.query.full) return summary;
      // The stored text is already the serialized document: splice it in rather than parse and
      // re-serialize it. Fastify sends a string with a JSON content type as-is (no serializer), hence the cast.
      const text = await getWorkloadText(app.bus.workloads, req.params.id);
      const body = `${JSON.stringify(summary).slice(0, -1)},"document":${text}}`;
      return reply.type('application/json; charset=utf-8').send(body as never);
    },
  );
};
