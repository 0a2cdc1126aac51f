import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import type { Limits } from '../config.js';

export interface RunsContext {
  js: JetStreamClient;
  jsm: JetStreamManager;
  runs: KV;
  /** Presence of host agents (AgentInfo by agent id). */
  agents: KV;
  workloads: ObjectStore;
  limits: Limits;
  allowEngineLaunchCommand: boolean;
  engineUrlAllowList: readonly string[];
  aggregatorUrl?: string | undefined;
  /** EVENT_SIGNING_SECRET: each run's event-signing key is derived from it (@kvbench/bus signing.ts); null: events unsigned. */
  eventSigningSecret: string | null;
  now: () => Date;
  /** Labels whose durable job consumer this process has already ensured. */
  ensuredLabels: Set<string>;
}

