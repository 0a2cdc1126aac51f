import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Health } from '../api-schemas.js';
import { schemaVersion } from '../store/migrations.js';

/** Liveness and ingest state; `degraded` while SQLite rejects writes. */
const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/health', { schema: { tags: ['service'], summary: 'Liveness, ingest state and the schema version (open with any auth setting)', security: [], response: { 200: Health } } }, async () => {
    const ingest = app.ingest?.stats;
    const storageError = ingest?.storageError ?? null;
    return {
      status: storageError === null ? ('ok' as const) : ('degraded' as const),
      schema_version: schemaVersion(app.db),
      ingest: { running: ingest?.running ?? false, committed_events: ingest?.committedEvents ?? 0, storage_error: storageError },
    };
  });
};
export default healthRoutes;
