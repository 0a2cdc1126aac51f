import { CONFIG_PRESETS } from '@kvbench/common';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Health, PresetList } from '../schemas.js';

export const metaRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/health',
    // Open with any auth setting (a probe): security [] says so, and Swagger UI sends no token.
    { schema: { tags: ['meta'], summary: 'Liveness and the NATS connection state', security: [], response: { 200: Health, 503: Health } } },
    async (_req, reply) => {
      const nc = app.bus.nc;
      const up = !nc.isClosed() && !nc.isDraining();
      return reply.code(up ? 200 : 503).send({ status: up ? 'ok' : 'unavailable', nats: up ? 'connected' : 'closed' });
    },
  );

  app.get(
    '/presets',
    { schema: { tags: ['meta'], summary: 'KV offload presets (config_module values) and their settings', response: { 200: PresetList } } },
    async () => ({ presets: { ...CONFIG_PRESETS } }),
  );
};
