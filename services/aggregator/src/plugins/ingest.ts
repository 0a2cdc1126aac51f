import fp from 'fastify-plugin';
import type { IngestSettings } from '../config.js';
import { EventIngest } from '../ingest/consumer.js';
import { NoticeBus } from '../ingest/notice-bus.js';
import { BusPlanSource } from '../ingest/plans.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Post-commit notices per run (SSE feeds on it). */
    notices: NoticeBus;
    /** null when the app runs without ingest (reads only). */
    ingest: EventIngest | null;
  }
}

export interface IngestPluginOptions {
  settings: IngestSettings;
  /** false: serve reads only, consume nothing. */
  enabled: boolean;
}

/**
 * Starts the durable events consumer once db and nats are up. Registered after
 * them, so its onClose (stop consuming, commit what was taken) runs before the
 * NATS drain and the database close.
 */
export default fp<IngestPluginOptions>(
  async (app, opts) => {
    const notices = new NoticeBus();
    app.decorate('notices', notices);
    if (!opts.enabled) {
      app.decorate('ingest', null);
      return;
    }
    const plans = new BusPlanSource(app.db, app.nats.runs, app.nats.workloads, app.log);
    const ingest = new EventIngest(app.nats.js, app.nats.jsm, app.eventWriter, notices, app.log, opts.settings, plans);
    app.decorate('ingest', ingest);
    await ingest.start();
    app.addHook('onClose', async () => {
      await ingest.stop();
    });
  },
  { name: 'ingest', dependencies: ['db'] },
);
