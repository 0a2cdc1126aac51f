import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Health } from '../api-schemas.js';
import { schemaVersion } from '../store/migrations.js';

/**
 * Liveness and ingest state; `degraded` (503) while SQLite rejects writes, so a load balancer or
 * `kvbench up` sees the failure from the status code alone, with the reason in the body.
 */
const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/health', { schema: { tags: ['service'], summary: 'Liveness, ingest state and the schema version (open with any auth setting); 503 while degraded', security: [], response: { 200: Health, 503: Health } } }, async (_req, reply) => {
    const ingest = app.ingest?.stats;
    const storageError = ingest?.storageError ?? null;
    const ok = storageError === null;
    return reply.code(ok ? 200 : 503).send({
      status: ok ? ('ok' as const) : ('degraded' as const),
      schema_version: schemaVersion(app.db),
      ingest: {
        running: ingest?.running ?? false,
        committed_events: ingest?.committedEvents ?? 0,
        rejected_samples: ingest?.rejectedSamples ?? 0,
        event_signing: app.ingest?.signing ?? 'off',
        rejected_unsigned: ingest?.rejectedUnsigned ?? 0,
        rejected_bad_signature: ingest?.rejectedBadSignature ?? 0,
        storage_error: storageError,
      },
    });
  });
};
export default healthRoutes;
