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
