import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import type { NatsConnection } from '@nats-io/transport-node';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ApiConfig } from './config.js';
import authPlugin from './plugins/auth.js';
import errorsPlugin from './plugins/errors.js';
import reconcilePlugin from './plugins/reconcile.js';
import { apiDocsPlugin, prettyJsonPlugin } from '@kvbench/processes';
import { natsPlugin } from './plugins/nats.js';
import { metaRoutes } from './routes/meta.js';
import { runRoutes } from './routes/runs.js';
import { workloadRoutes } from './routes/workloads.js';
import type { RunsContext } from './runs/index.js';

export interface AppDeps {
  /** Use this NATS connection instead of connecting (the caller closes it). */
  nc?: NatsConnection;
  now?: () => Date;
  /** Where log lines go (tests capture them); stdout by default. */
  logStream?: { write(line: string): void };
}

export interface AppOptions {
  config: ApiConfig;
  deps: AppDeps;
}

/**
 * The workload-api as a plugin: errors and auth first (they see every request), the API
 * description, the bus, then routes. A new route file is one `register` line below.
 */
export const workloadApiApp = fp<AppOptions>(
  async (app, { config, deps }) => {
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    await app.register(errorsPlugin);
    await app.register(prettyJsonPlugin);
    // CORS is closed (no headers at all) unless origins are configured.
    if (config.corsOrigins.length > 0) {
      await app.register(cors, { origin: config.corsOrigins, methods: ['GET', 'HEAD', 'POST'], allowedHeaders: ['Authorization', 'Content-Type'] });
    }
    await app.register(authPlugin, { auth: config.auth });

    await app.register(apiDocsPlugin, {
      info: { title: 'kvbench workload-api', version: '1.0.0', description: 'Generate and store workloads; submit benchmark runs as jobs.' },
      readsRequireToken: config.auth.readsRequireAuth,
    });

    await app.register(natsPlugin, { nats: config.nats, nc: deps.nc });

    const ensuredLabels = new Set<string>();
    const runsContext = (): RunsContext => ({
      js: app.bus.js,
      jsm: app.bus.jsm,
      runs: app.bus.runs,
      agents: app.bus.agents,
      workloads: app.bus.workloads,
      limits: config.limits,
      allowEngineLaunchCommand: config.allowEngineLaunchCommand,
      engineUrlAllowList: config.engineUrlAllowList,
      aggregatorUrl: config.aggregatorUrl,
      eventSigningSecret: config.eventSigningSecret,
      now: deps.now ?? (() => new Date()),
      ensuredLabels,
    });

    await app.register(metaRoutes);
    await app.register(workloadRoutes, { limits: config.limits });
    await app.register(runRoutes, { context: runsContext });
    await app.register(reconcilePlugin, { context: runsContext, intervalMs: config.reconcileIntervalMs });
  },
  { name: 'workload-api' },
);

/** A ready-to-listen Fastify instance (tests call app.inject or app.listen({ port: 0 })). */
export async function buildApp(config: ApiConfig, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      // Bearer tokens must never reach a log line, whatever serializer or child logger prints headers.
      redact: { paths: ['req.headers.authorization', 'headers.authorization', 'authorization'], censor: '[redacted]' },
      ...(deps.logStream ? { stream: deps.logStream } : {}),
    },
    bodyLimit: config.limits.maxBodyBytes,
  }).withTypeProvider<ZodTypeProvider>();
  await app.register(workloadApiApp, { config, deps });
  return app;
}
