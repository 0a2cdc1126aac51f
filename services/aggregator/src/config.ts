import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { RunWaitBounds } from './routes/known-run.js';
import { EVENT_ACK_WAIT_MS } from '@kvbench/bus';
import { ConfigError, envInt, envPort, eventSigningEnvSchema, loadConfig, natsEnvSchema, natsSettingsFrom, type NatsSettings } from '@kvbench/common';

/** Every environment variable the aggregator reads; names are the keys. */
export const aggregatorEnvSchema = z.object({
  PORT: envPort(8081),
  HOST: z.string().min(1).optional().transform((v) => v ?? '127.0.0.1'),
  DB_PATH: z.string().min(1).optional().transform((v) => v ?? 'data/aggregator.sqlite'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().transform((v) => v ?? 'info'),
  ...natsEnvSchema,
  ...eventSigningEnvSchema,
  /** Bearer token required on every read except /health; reads are open when unset. */
  READ_TOKEN: z.string().min(1).optional(),
  /** File holding READ_TOKEN (first non-empty line), so it stays out of the environment. */
  READ_TOKEN_FILE: z.string().optional(),
  /** Comma-separated allowed origins; CORS stays closed when unset. */
  CORS_ORIGINS: z.string().optional(),
  /** Durable consumer name; a second aggregator with its own database needs its own name. */
  INGEST_CONSUMER: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _').optional(),
  /** Ingest commits at most this many events per transaction... */
  INGEST_MAX_BATCH: envInt(1000, 1, 100_000),
  /** ...or whatever arrived within this many milliseconds of the first pending event. */
  INGEST_MAX_DELAY_MS: envInt(5, 0, 10_000),
  /** Delay before SQLite-rejected events are delivered again. */
  INGEST_RETRY_DELAY_MS: envInt(2000, 10, 600_000),
  /** Seconds an event may stay unacked before JetStream delivers it again (to a restarted aggregator, after a crash). */
  INGEST_ACK_WAIT_S: envInt(EVENT_ACK_WAIT_MS / 1000, 1, 3600),
  /** A run whose accepted event is on the bus but not stored yet: how long its requests wait for it. */
  RUN_WAIT_ACCEPTED_MS: envInt(30_000, 0, 600_000),
  /** A run id nobody accepted: how long its requests wait before the 404. */
  RUN_WAIT_UNKNOWN_MS: envInt(2000, 0, 600_000),
  /** Sign-in attempts (POST /login) one client address may make per LOGIN_WINDOW_MS; then 429 with Retry-After. */
  LOGIN_MAX_ATTEMPTS: envInt(10, 1, 10_000),
  LOGIN_WINDOW_MS: envInt(60_000, 1000, 86_400_000),
});

export interface IngestSettings {
  consumerName?: string | undefined;
  maxBatch: number;
  maxDelayMs: number;
  retryDelayMs: number;
  /** EVENT_SIGNING_SECRET: only events signed with their run's key are stored; null: unsigned events accepted. */
  signingSecret: string | null;
  ackWaitMs: number;
}

export interface AggregatorConfig {
  host: string;
  port: number;
  logLevel: string;
  dbPath: string;
  nats: NatsSettings;
  /** undefined: reads open. */
  readToken?: string | undefined;
  /** Empty: no CORS headers at all (closed). */
  corsOrigins: string[];
  ingest: IngestSettings;
  runWait: RunWaitBounds;
  /** At most `max` POST /login per client address per `windowMs`: guessing READ_TOKEN stays slow. */
  loginLimit: LoginLimit;
}

export interface LoginLimit {
  max: number;
  windowMs: number;
}

const splitList = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

function readTokenFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`invalid environment variable READ_TOKEN_FILE: cannot read ${path}: ${(err as Error).message}`, 'READ_TOKEN_FILE', { cause: err });
  }
  const token = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l && !l.startsWith('#'));
  if (!token) throw new ConfigError(`invalid environment variable READ_TOKEN_FILE: ${path} holds no token`, 'READ_TOKEN_FILE');
  return token;
}

/** Read and check the environment once, at start. Throws ConfigError naming the bad variable. */
export function loadAggregatorConfig(env: NodeJS.ProcessEnv = process.env): AggregatorConfig {
  const c = loadConfig(aggregatorEnvSchema, env);
  return {
    host: c.HOST,
    port: c.PORT,
    logLevel: c.LOG_LEVEL,
    dbPath: c.DB_PATH,
    nats: natsSettingsFrom(c),
    readToken: c.READ_TOKEN ?? (c.READ_TOKEN_FILE ? readTokenFile(c.READ_TOKEN_FILE) : undefined),
    corsOrigins: splitList(c.CORS_ORIGINS),
    ingest: { consumerName: c.INGEST_CONSUMER, maxBatch: c.INGEST_MAX_BATCH, maxDelayMs: c.INGEST_MAX_DELAY_MS, retryDelayMs: c.INGEST_RETRY_DELAY_MS, signingSecret: c.EVENT_SIGNING_SECRET ?? null, ackWaitMs: c.INGEST_ACK_WAIT_S * 1000 },
    runWait: { acceptedMs: c.RUN_WAIT_ACCEPTED_MS, unknownMs: c.RUN_WAIT_UNKNOWN_MS },
    loginLimit: { max: c.LOGIN_MAX_ATTEMPTS, windowMs: c.LOGIN_WINDOW_MS },
  };
}
