import fp from 'fastify-plugin';
import { type NatsSettings } from '@kvbench/common';
import { RUNS_BUCKET, WORKLOADS_BUCKET, connectNats, serveClock, setupBus } from '@kvbench/bus';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';

declare module 'fastify' {
  interface FastifyInstance {
    nats: {
      nc: NatsConnection;
      js: JetStreamClient;
      jsm: JetStreamManager;
      /** Runs' status (workload id of a run ingest has no accepted event for yet). */
      runs: KV;
      /** Native workload documents: the request ids a run's samples may carry. */
      workloads: ObjectStore;
    };
  }
}

export interface NatsPluginOptions {
  settings: NatsSettings;
  /** An already open connection; the caller drains it. */
  nc?: NatsConnection | undefined;
}

/** Connects, creates or updates the streams, drains the connection in onClose. */
export default fp<NatsPluginOptions>(
  async (app, opts) => {
    const owned = !opts.nc;
    const nc = opts.nc ?? (await connectNats(opts.settings, 'kvbench-aggregator'));
    const jsm = await setupBus(nc, opts.settings.replicas);
    // Same options as workload-api and the agents, so whichever service starts first creates identical buckets.
    const runs = await new Kvm(nc).create(RUNS_BUCKET, { replicas: opts.settings.replicas });
    const workloads = await new Objm(nc).create(WORKLOADS_BUCKET, { replicas: opts.settings.replicas });
    app.decorate('nats', { nc, js: jetstream(nc), jsm, runs, workloads });
    // The aggregator is the reference clock agents align their timelines to (run_meta.clock_offset).
    const clock = serveClock(nc, 'aggregator');
    app.addHook('onClose', async () => {
      clock.unsubscribe();
      if (owned && !nc.isClosed()) await nc.drain();
    });
  },
  { name: 'nats' },
);
