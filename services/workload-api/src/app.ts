import Fastify, { type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { NatsConnection } from '@nats-io/transport-node';
import { polishOpenApi, presetNames } from '@kvbench/common';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { accessFor, Authorizer } from './auth.js';
import type { ApiConfig } from './config.js';
import { toHttpError } from './http-errors.js';
import { natsPlugin } from './plugins/nats.js';
import { metaRoutes } from './routes/meta.js';
import { runRoutes } from './routes/runs.js';
import { workloadRoutes } from './routes/workloads.js';
import type { RunsContext } from './runs.js';

export interface AppDeps {
  /** Use this NATS connection instead of connecting (the caller closes it). */
  nc?: NatsConnection;
  now?: () => Date;
  /** Where log lines go (tests capture them); stdout by default. */
  logStream?: { write(line: string): void };
}

/** Paths anyone may read even when READS_REQUIRE_AUTH: liveness and the API description. */
const PUBLIC_PATHS = [/^\/health$/, /^\/openapi\.json$/, /^\/docs(\/|$)/];

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

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toHttpError(err, (field) => (field === 'config_module' ? presetNames() : undefined));
    if (status >= 500) req.log.error({ err }, 'request failed');
    else req.log.info({ status, error: body.error, field: body.field }, body.message);
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="kvbench"');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );

  // CORS is closed (no headers at all) unless origins are configured.
  if (config.corsOrigins.length > 0) {
    await app.register(cors, { origin: config.corsOrigins, methods: ['GET', 'HEAD', 'POST'], allowedHeaders: ['Authorization', 'Content-Type'] });
  }

  const authorizer = new Authorizer(config.auth);
  if (authorizer.open) {
    app.log.warn('no AUTH_TOKENS configured: anyone who can reach this server can create workloads and submit runs');
  }
  app.addHook('onRequest', async (req) => {
    const access = accessFor(req.method);
    if (access === 'none') return;
    const path = req.url.split('?')[0] ?? '';
    if (access === 'read' && PUBLIC_PATHS.some((p) => p.test(path))) return;
    authorizer.check(access, req.headers.authorization);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'kvbench workload-api', version: '1.0.0', description: 'Generate and store workloads; submit benchmark runs as jobs.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
    // Named components that resolve, examples, response descriptions: see polishOpenApi.
    transformObject: (doc) => polishOpenApi(jsonSchemaTransformObject(doc)),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

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
    aggregatorUrl: config.aggregatorUrl,
    now: deps.now ?? (() => new Date()),
    ensuredLabels,
  });

  await app.register(metaRoutes);
  await app.register(workloadRoutes, { limits: config.limits });
  await app.register(runRoutes, { context: runsContext });
  return app;
}
