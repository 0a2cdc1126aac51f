import fp from 'fastify-plugin';
import type { Database } from 'better-sqlite3';
import { openDatabase } from '../store/database.js';
import { createEventWriter, type EventWriter } from '../store/writer.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The aggregator's SQLite connection (ingest writes, routes read). */
    db: Database;
    /** Idempotent batch writer of run events. */
    eventWriter: EventWriter;
  }
}

export interface DbPluginOptions {
  path: string;
  /** An already open database (tests, benches); the caller closes it. */
  db?: Database | undefined;
}

/** Opens the database (WAL, migrations) and closes it last, in onClose. */
export default fp<DbPluginOptions>(
  async (app, opts) => {
    const owned = !opts.db;
    const db = opts.db ?? openDatabase(opts.path);
    app.decorate('db', db);
    app.decorate('eventWriter', createEventWriter(db));
    app.addHook('onClose', async () => {
      if (owned && db.open) db.close();
    });
  },
  { name: 'db' },
);
