import { after, before } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServerHandle } from '@kvbench/testkit';
import { buildApp, loadApiConfig } from '@kvbench/workload-api';

/** Captures log lines so tests can look for warnings and for leaked secrets. */
export class LogCapture {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  get text(): string {
    return this.lines.join('');
  }
}

export interface Api {
  app: FastifyInstance;
  logs: LogCapture;
  close(): Promise<void>;
}

/** An app built from environment variables, exactly as server.ts builds it, against `nats`. */
export async function startApi(nats: NatsServerHandle, env: Record<string, string> = {}): Promise<Api> {
  const logs = new LogCapture();
  const config = loadApiConfig({ NATS_URL: nats.url, LOG_LEVEL: 'info', ...env });
  const app = await buildApp(config, { logStream: logs });
  await app.ready();
  return { app, logs, close: () => app.close() };
}

/** An `Api` with the nats-server it runs on; see `apiForSuite`. */
export interface SuiteApi {
  readonly nats: NatsServerHandle;
  readonly app: FastifyInstance;
  readonly logs: LogCapture;
}

/**
 * A nats-server of the suite's own and an app on it (`startApi(nats, env)`): started in a before hook
 * and closed in an after hook of the surrounding describe (or of the file, called at top level). Its
 * fields exist from the before hook on: read them inside tests only.
 */
export function apiForSuite(env: Record<string, string> = {}): SuiteApi {
  let nats: NatsServerHandle | undefined;
  let api: Api | undefined;
  before(async () => {
    nats = await startNatsServer();
    api = await startApi(nats, env);
  });
  after(async () => {
    await api?.close();
    await nats?.close();
  });
  const started = () => {
    if (!nats || !api) throw new Error("the suite's app is read before its before hook ran (read it inside a test)");
    return { nats, api };
  };
  return {
    get nats() {
      return started().nats;
    },
    get app() {
      return started().api.app;
    },
    get logs() {
      return started().api.logs;
    },
  };
}

export async function withNats<T>(fn: (nats: NatsServerHandle) => Promise<T>): Promise<T> {
  const nats = await startNatsServer();
  try {
    return await fn(nats);
  } finally {
    await nats.close();
  }
}

export async function natsClient(nats: NatsServerHandle): Promise<NatsConnection> {
  return connect({ servers: nats.url });
}

/** A workload small enough to generate in milliseconds. */
export const SMALL_PARAMS = {
  contexts: [64, 128],
  batches_per_context: 2,
  batch_sizes: [2, 3],
  prompt_pool_size: 2,
  reuse_start_batch: 1,
  seed: 7,
};

export const auth = (token: string) => ({ authorization: `Bearer ${token}` });
