import fp from 'fastify-plugin';
import { type NatsSettings } from '@kvbench/common';
import { connectNats, serveClock, setupBus } from '@kvbench/bus';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';

declare module 'fastify' {
  interface FastifyInstance {
    nats: { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager };
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
    app.decorate('nats', { nc, js: jetstream(nc), jsm });
    // The aggregator is the reference clock agents align their timelines to (run_meta.clock).
    const clock = serveClock(nc, 'aggregator');
    app.addHook('onClose', async () => {
      clock.unsubscribe();
      if (owned && !nc.isClosed()) await nc.drain();
    });
  },
  { name: 'nats' },
);
