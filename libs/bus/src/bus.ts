import { connect, type NatsConnection, type ConnectionOptions } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { readFileSync } from 'node:fs';
import { credsAuthenticator } from '@nats-io/transport-node';
import { BusError, type NatsSettings } from '@kvbench/common';
import { Kvm, type KV } from '@nats-io/kv';

/** Names on the bus. Everything kvbench puts on NATS is named here. */
export const JOBS_STREAM = 'KVBENCH_JOBS';
export const EVENTS_STREAM = 'KVBENCH_EVENTS';
export const WORKLOADS_BUCKET = 'kvbench_workloads';
export const RUNS_BUCKET = 'kvbench_runs';
export const AGGREGATOR_CONSUMER = 'aggregator';
export const CLOCK_SUBJECT = 'kvbench.clock';
/** Presence of host agents (AgentInfo by agent id); entries expire AGENT_TTL_MS after the last heartbeat. */
export const AGENTS_BUCKET = 'kvbench_agents';
export const AGENT_HEARTBEAT_MS = 3_000;
export const AGENT_TTL_MS = 10_000;

export const jobSubject = (systemLabel: string) => `kvbench.jobs.${systemLabel}`;
export const eventSubject = (runId: string, type: string) => `kvbench.runs.${runId}.${type}`;
export const agentConsumerName = (systemLabel: string) => `agent-${systemLabel}`;

/** How long an agent may hold a job without signalling progress (working()) before redelivery. */
export const JOB_ACK_WAIT_MS = 60_000;
/** A job is attempted at most this many times (agent crashes mid-run restart it). */
export const JOB_MAX_DELIVER = 3;
/** Events: how long the aggregator may take to commit before redelivery. */
export const EVENT_ACK_WAIT_MS = 30_000;
/** JetStream de-duplication window for msgID (publish retries after reconnects). */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;

export async function connectNats(s: NatsSettings, name: string, extra: Partial<ConnectionOptions> = {}): Promise<NatsConnection> {
  const opts: ConnectionOptions = {
    servers: s.servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    ...extra,
  };
  if (s.user) opts.user = s.user;
  if (s.pass) opts.pass = s.pass;
  if (s.token) opts.token = s.token;
  if (s.credsFile) opts.authenticator = credsAuthenticator(readFileSync(s.credsFile));
  if (s.tls) opts.tls = s.tls;
  return connect(opts);
}

/**
 * Create or update every stream kvbench uses. Idempotent: each service calls it at
 * start, so whichever starts first sets the bus up.
 */
export async function ensureStreams(jsm: JetStreamManager, replicas = 1): Promise<void> {
  const streams = [
    {
      name: JOBS_STREAM,
      subjects: ['kvbench.jobs.>'],
      // Work queue: a job is removed once an agent acks it, delivered to one consumer only.
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      num_replicas: replicas,
      duplicate_window: DUPLICATE_WINDOW_MS * 1_000_000,
    },
    {
      name: EVENTS_STREAM,
      subjects: ['kvbench.runs.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      num_replicas: replicas,
      duplicate_window: DUPLICATE_WINDOW_MS * 1_000_000,
    },
  ];
  for (const cfg of streams) {
    try {
      await jsm.streams.info(cfg.name);
      await jsm.streams.update(cfg.name, cfg);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await jsm.streams.add(cfg);
    }
  }
}

/**
 * The durable consumer through which agents of one system label take jobs.
 * Whoever submits a run calls this without options, so the job waits for its
 * machine even before any agent started: an existing consumer is then left as it
 * is. An agent passes its own settings, which are applied to an existing consumer.
 */
export async function ensureJobConsumer(
  jsm: JetStreamManager,
  systemLabel: string,
  opts?: { ackWaitMs?: number; maxDeliver?: number },
): Promise<string> {
  const name = agentConsumerName(systemLabel);
  const ack_wait = (opts?.ackWaitMs ?? JOB_ACK_WAIT_MS) * 1_000_000;
  const max_deliver = opts?.maxDeliver ?? JOB_MAX_DELIVER;
  const existing = await jsm.consumers.info(JOBS_STREAM, name).catch((err) => {
    if (isNotFound(err)) return null;
    throw err;
  });
  if (existing) {
    if (opts && (existing.config.ack_wait !== ack_wait || existing.config.max_deliver !== max_deliver)) {
      await jsm.consumers.update(JOBS_STREAM, name, { ack_wait, max_deliver });
    }
    return name;
  }
  await jsm.consumers.add(JOBS_STREAM, {
    durable_name: name,
    filter_subject: jobSubject(systemLabel),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait,
    max_deliver,
    // One job at a time per system: a machine benchmarks one run at a time.
    max_ack_pending: 1,
  });
  return name;
}

/**
 * The aggregator's durable consumer over every run event. `ackWaitMs` is also how long the events an
 * aggregator took but never acked (it was killed) wait before they are delivered again; nats-server
 * 2.9 applies a changed value to an existing consumer on this add.
 */
export async function ensureAggregatorConsumer(jsm: JetStreamManager, name = AGGREGATOR_CONSUMER, ackWaitMs = EVENT_ACK_WAIT_MS): Promise<string> {
  await jsm.consumers.add(EVENTS_STREAM, {
    durable_name: name,
    filter_subject: 'kvbench.runs.>',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ackWaitMs * 1_000_000,
    max_ack_pending: 10_000,
  });
  return name;
}

/**
 * The agents' presence bucket. Its TTL (max_age) is what makes a silent agent disappear, so every
 * service opens it with the same TTL; the first one creates it.
 */
export async function openAgentsBucket(nc: NatsConnection, replicas = 1, ttlMs = AGENT_TTL_MS): Promise<KV> {
  return new Kvm(nc).create(AGENTS_BUCKET, { replicas, ttl: ttlMs, history: 1 });
}

/**
 * JetStream manager with every stream in place. Retried with backoff: services that
 * start together against a cluster still electing its leaders see timeouts at first.
 */
export async function setupBus(nc: NatsConnection, replicas = 1, deadlineMs = 60_000): Promise<JetStreamManager> {
  const jsm = await jetstreamManager(nc);
  const deadline = Date.now() + deadlineMs;
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      await ensureStreams(jsm, replicas);
      return jsm;
    } catch (err) {
      if (Date.now() + delay > deadline) throw new BusError('could not set up the JetStream streams', { cause: err });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return (
    e?.api_error?.err_code === 10059 ||
    e?.api_error?.err_code === 10014 ||
    e?.code === '404' ||
    /(stream|consumer) not found/i.test(e?.message ?? '')
  );
}
