import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * Load configuration from environment variables once, at process start.
 * The schema's keys are the variable names; the first bad variable is named in
 * the thrown ConfigError so the operator knows what to fix.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    // An empty variable means "unset", as shells make it easy to export KEY=.
    input[key] = v === '' ? undefined : v;
  }
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const variable = String(issue.path[0] ?? '(unknown)');
  throw new ConfigError(`invalid environment variable ${variable}: ${issue.message}`, variable, { cause: r.error });
}

/** Common env helpers: booleans and integers as environment strings. */
export const envBool = (def: boolean) =>
  z
    .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
    .optional()
    .transform((v) => (v === undefined ? def : ['1', 'true', 'yes', 'on'].includes(v)));

export const envInt = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).optional().transform((v) => v ?? def);

export const envPort = (def: number) => envInt(def, 0, 65535);

/** NATS connection settings shared by every service (auth and TLS pass through). */
export const natsEnvSchema = {
  NATS_URL: z.string().min(1).optional().transform((v) => v ?? 'nats://127.0.0.1:4222'),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  NATS_TOKEN: z.string().optional(),
  NATS_CREDS_FILE: z.string().optional(),
  NATS_TLS_CA: z.string().optional(),
  NATS_TLS_CERT: z.string().optional(),
  NATS_TLS_KEY: z.string().optional(),
  NATS_STREAM_REPLICAS: envInt(1, 1, 5),
  /** Seconds an agent may hold a job without a progress signal before it is delivered again. */
  JOB_ACK_WAIT_S: envInt(60, 1, 3600),
};

/**
 * The secret workload-api and the aggregator share to sign run events (issue 25): each run's key
 * is derived from it and handed only to the agent holding the run's job. Unset: events go
 * unsigned and the aggregator accepts them (what /health says as `event_signing: "off"`).
 */
export const eventSigningEnvSchema = {
  EVENT_SIGNING_SECRET: z.string().min(32, 'at least 32 characters (e.g. openssl rand -hex 32)').optional(),
};

export interface NatsSettings {
  servers: string[];
  user?: string | undefined;
  pass?: string | undefined;
  token?: string | undefined;
  credsFile?: string | undefined;
  tls?: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined } | undefined;
  replicas: number;
  jobAckWaitMs: number;
}

export function natsSettingsFrom(c: {
  NATS_URL: string;
  NATS_USER?: string | undefined;
  NATS_PASSWORD?: string | undefined;
  NATS_TOKEN?: string | undefined;
  NATS_CREDS_FILE?: string | undefined;
  NATS_TLS_CA?: string | undefined;
  NATS_TLS_CERT?: string | undefined;
  NATS_TLS_KEY?: string | undefined;
  NATS_STREAM_REPLICAS: number;
  JOB_ACK_WAIT_S: number;
}): NatsSettings {
  const tls = c.NATS_TLS_CA || c.NATS_TLS_CERT || c.NATS_TLS_KEY
    ? { caFile: c.NATS_TLS_CA, certFile: c.NATS_TLS_CERT, keyFile: c.NATS_TLS_KEY }
    : undefined;
  return {
    servers: c.NATS_URL.split(',').map((s) => s.trim()).filter(Boolean),
    user: c.NATS_USER,
    pass: c.NATS_PASSWORD,
    token: c.NATS_TOKEN,
    credsFile: c.NATS_CREDS_FILE,
    tls,
    replicas: c.NATS_STREAM_REPLICAS,
    jobAckWaitMs: c.JOB_ACK_WAIT_S * 1000,
  };
}
