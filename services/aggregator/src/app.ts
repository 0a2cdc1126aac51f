import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Database } from 'better-sqlite3';
import type { NatsConnection } from '@nats-io/transport-node';
import type { AggregatorConfig, IngestSettings } from './config.js';
import authPlugin from './plugins/auth.js';
import dbPlugin from './plugins/db.js';
import errorsPlugin from './plugins/errors.js';
import { apiDocsPlugin, prettyJsonPlugin } from '@kvbench/processes';
import ingestPlugin from './plugins/ingest.js';
import natsPlugin from './plugins/nats.js';
import healthRoutes from './routes/health.js';
import resultsRoutes from './routes/results.js';
import runEventsRoutes from './routes/run-events.js';
import runsRoutes from './routes/runs.js';
import compareRoutes from './routes/compare.js';
import sweepRoutes from './routes/sweeps.js';
import livePageRoutes from './routes/live-page.js';
import sampleExportRoutes from './routes/sample-exports.js';
import sessionRoutes from './routes/session.js';
import telemetryRoutes from './routes/telemetry.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Engine log tails go to readers only when every read is authenticated (READ_TOKEN). */
    logTailsShown: boolean;
  }
}

export interface AppDeps {
  /** An open database to use instead of opening config.dbPath (the caller closes it). */
  db?: Database;
  /** An open NATS connection to use instead of connecting (the caller drains it). */
  nc?: NatsConnection;
  /** false: serve reads only, no NATS, no ingest (reports over an existing database). */
  ingest?: boolean;
  /** Overrides of the ingest settings from config (tests use their own consumer names). */
  ingestSettings?: Partial<IngestSettings>;
  /** Fastify logger option; defaults to pino at config.logLevel. */
  logger?: FastifyServerOptions['logger'];
}

export interface AppOptions {
  config: AggregatorConfig;
  deps: AppDeps;
}

/**
 * The aggregator as a plugin: shared resources first (they close last), then
 * ingest, then routes. A new route file is one `register` line below.
 */
export const aggregatorApp = fp<AppOptions>(
  async (app, { config, deps }) => {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    await app.register(errorsPlugin);
    await app.register(prettyJsonPlugin);
    // Closed unless origins are configured: no CORS headers at all.
    if (config.corsOrigins.length > 0) await app.register(cors, { origin: config.corsOrigins, methods: ['GET', 'HEAD'] });
    await app.register(apiDocsPlugin, {
      info: { title: 'kvbench aggregator', description: 'Run events in, results, comparisons and live samples out', version: '1.0.0' },
      bearerDescription: 'READ_TOKEN of the aggregator (`kvbench up --token`)',
      readsRequireToken: config.readToken !== undefined,
    });

    await app.register(dbPlugin, { path: config.dbPath, db: deps.db });
    const ingest = deps.ingest !== false;
    if (ingest) await app.register(natsPlugin, { settings: config.nats, nc: deps.nc });
    await app.register(ingestPlugin, { enabled: ingest, settings: { ...config.ingest, ...deps.ingestSettings } });
    await app.register(authPlugin, { readToken: config.readToken });
    app.decorate('runWait', config.runWait);
    app.decorate('logTailsShown', config.readToken !== undefined);

    await app.register(healthRoutes);
    await app.register(runsRoutes);
    await app.register(runEventsRoutes);
    await app.register(resultsRoutes);
    await app.register(compareRoutes);
    await app.register(sweepRoutes);
    await app.register(livePageRoutes);
    await app.register(sampleExportRoutes);
    await app.register(sessionRoutes({ readToken: config.readToken, loginLimit: config.loginLimit }));
    await app.register(telemetryRoutes);
  },
  { name: 'aggregator' },
);

/** A ready-to-listen Fastify instance (tests call app.inject or app.listen({ port: 0 })). */
export async function buildApp(config: AggregatorConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? { level: config.logLevel },
    // Closing with open SSE streams would otherwise wait for every client to hang up.
    forceCloseConnections: true,
  }).withTypeProvider<ZodTypeProvider>();
  await app.register(aggregatorApp, { config, deps });
  await app.ready();
  return app;
}
