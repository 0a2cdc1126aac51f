import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, envBool, envInt, envPort, eventSigningEnvSchema, loadConfig, natsEnvSchema, natsSettingsFrom, type NatsSettings } from '@kvbench/common';

const MiB = 1024 * 1024;

/** Every environment variable workload-api reads; names are the keys. */
export const apiEnvSchema = z.object({
  PORT: envPort(8080),
  HOST: z.string().min(1).optional().transform((v) => v ?? '127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().transform((v) => v ?? 'info'),
  ...natsEnvSchema,
  ...eventSigningEnvSchema,
  /** Comma-separated bearer tokens allowed to read and write. */
  AUTH_TOKENS: z.string().optional(),
  /** File with one read-write token per line (# comments and blank lines ignored). */
  AUTH_TOKENS_FILE: z.string().optional(),
  /** Comma-separated read-only tokens (403 on a write). */
  AUTH_READ_TOKENS: z.string().optional(),
  AUTH_READ_TOKENS_FILE: z.string().optional(),
  READS_REQUIRE_AUTH: envBool(false),
  /** Comma-separated allowed origins; CORS stays closed when unset. */
  CORS_ORIGINS: z.string().optional(),
  /** Base URL of the aggregator, to answer POST /runs with a live events_url. */
  AGGREGATOR_URL: z.url().optional(),
  /**
   * Jobs may carry engine.launch_command, an argv the agent executes. Accepting one from a
   * REST body lets any writer run programs on the agents, so it is refused unless enabled.
   */
  ALLOW_ENGINE_LAUNCH_COMMAND: envBool(false),
  /** Seconds between passes that reconcile runs with the job queue (lost jobs, vanished agents); 0 = off. */
  RECONCILE_INTERVAL_S: envInt(5, 0, 3600),
  /**
   * Comma-separated engine base URLs a run may attach to (engine.url); empty: none. A URL in a
   * REST body is otherwise a host the agent connects to at a writer's choice.
   */
  ENGINE_URL_ALLOWLIST: z.string().optional(),
  /** Largest max_seq_len a run may ask for (output_tokens may not exceed it either). */
  MAX_SEQ_LEN: envInt(1_048_576, 1),
  MAX_CONTEXT_TOKENS: envInt(131072, 1),
  MAX_POOL_SIZE: envInt(1024, 1),
  MAX_BATCH_SIZE: envInt(1024, 1),
  MAX_BATCHES: envInt(10_000, 1),
  MAX_BODY_BYTES: envInt(64 * MiB, 1024),
  MAX_WORKLOAD_BYTES: envInt(256 * MiB, 1024),
});

/** Limits on what a request may ask for (issue 6: configurable, safe defaults). */
export interface Limits {
  maxSeqLen: number;
  maxContextTokens: number;
  maxPoolSize: number;
  maxBatchSize: number;
  maxBatches: number;
  maxBodyBytes: number;
  maxWorkloadBytes: number;
}

export interface AuthSettings {
  /** Tokens allowed everything. */
  writeTokens: string[];
  /** Tokens allowed reads only. */
  readTokens: string[];
  readsRequireAuth: boolean;
}

export interface ApiConfig {
  host: string;
  port: number;
  logLevel: string;
  nats: NatsSettings;
  auth: AuthSettings;
  /** Empty: no CORS headers at all (closed). */
  corsOrigins: string[];
  aggregatorUrl?: string | undefined;
  allowEngineLaunchCommand: boolean;
  /** Engine base URLs a run may name (ENGINE_URL_ALLOWLIST). */
  engineUrlAllowList: string[];
  limits: Limits;
  reconcileIntervalMs: number;
  /** EVENT_SIGNING_SECRET; null: run events unsigned. */
  eventSigningSecret: string | null;
}

const splitList = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** One token per line; blank lines and # comments skipped. The path comes from the operator, never a request. */
function readTokenFile(path: string | undefined, variable: string): string[] {
  if (!path) return [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`invalid environment variable ${variable}: cannot read ${path}: ${(err as Error).message}`, variable, { cause: err });
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** Read and check the environment once, at start. Throws ConfigError naming the bad variable. */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const c = loadConfig(apiEnvSchema, env);
  const auth: AuthSettings = {
    writeTokens: [...splitList(c.AUTH_TOKENS), ...readTokenFile(c.AUTH_TOKENS_FILE, 'AUTH_TOKENS_FILE')],
    readTokens: [...splitList(c.AUTH_READ_TOKENS), ...readTokenFile(c.AUTH_READ_TOKENS_FILE, 'AUTH_READ_TOKENS_FILE')],
    readsRequireAuth: c.READS_REQUIRE_AUTH,
  };
  if (auth.readsRequireAuth && auth.writeTokens.length + auth.readTokens.length === 0) {
    // Would lock every client out; an operator mistake, so say so at start.
    throw new ConfigError('invalid environment variable READS_REQUIRE_AUTH: no token is configured (AUTH_TOKENS, AUTH_TOKENS_FILE, AUTH_READ_TOKENS)', 'READS_REQUIRE_AUTH');
  }
  return {
    host: c.HOST,
    port: c.PORT,
    logLevel: c.LOG_LEVEL,
    nats: natsSettingsFrom(c),
    auth,
    corsOrigins: splitList(c.CORS_ORIGINS),
    aggregatorUrl: c.AGGREGATOR_URL?.replace(/\/+$/, ''),
    allowEngineLaunchCommand: c.ALLOW_ENGINE_LAUNCH_COMMAND,
    reconcileIntervalMs: c.RECONCILE_INTERVAL_S * 1000,
    eventSigningSecret: c.EVENT_SIGNING_SECRET ?? null,
    engineUrlAllowList: splitList(c.ENGINE_URL_ALLOWLIST),
    limits: {
      maxSeqLen: c.MAX_SEQ_LEN,
      maxContextTokens: c.MAX_CONTEXT_TOKENS,
      maxPoolSize: c.MAX_POOL_SIZE,
      maxBatchSize: c.MAX_BATCH_SIZE,
      maxBatches: c.MAX_BATCHES,
      maxBodyBytes: c.MAX_BODY_BYTES,
      maxWorkloadBytes: c.MAX_WORKLOAD_BYTES,
    },
  };
}
