import fp from 'fastify-plugin';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { type NatsSettings } from '@kvbench/common';
import { RUNS_BUCKET, WORKLOADS_BUCKET, connectNats, ensureStreams, openAgentsBucket } from '@kvbench/bus';

/** Everything the routes need from NATS. */
export interface Bus {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** RunStatus per run id. */
  runs: KV;
  /** Serialized native workload documents by workload id. */
  workloads: ObjectStore;
  /** Host agents' presence (AgentInfo by agent id, TTL'd). */
  agents: KV;
}

declare module 'fastify' {
  interface FastifyInstance {
    bus: Bus;
  }
}

export interface NatsPluginOptions {
  nats: NatsSettings;
  /** An existing connection; then the caller owns it and it is not drained on close. */
  nc?: NatsConnection | undefined;
}

/** Connects, creates the streams and buckets (idempotent, any service may be first), drains on close. */
export const natsPlugin = fp<NatsPluginOptions>(
  async (app, opts) => {
    const nc = opts.nc ?? (await connectNats(opts.nats, 'kvbench-workload-api'));
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStreams(jsm, opts.nats.replicas);
      const js = jetstream(nc);
      // Same options as the host agent, so whichever service starts first creates identical buckets.
      const runs = await new Kvm(nc).create(RUNS_BUCKET, { replicas: opts.nats.replicas });
      const workloads = await new Objm(nc).create(WORKLOADS_BUCKET, { replicas: opts.nats.replicas });
      const agents = await openAgentsBucket(nc, opts.nats.replicas);
      app.decorate('bus', { nc, js, jsm, runs, workloads, agents });
    } catch (err) {
      if (!opts.nc) await nc.close();
      throw err;
    }
    app.addHook('onClose', async () => {
      if (!opts.nc) await nc.drain();
    });
  },
  { name: 'kvbench-nats' },
);
