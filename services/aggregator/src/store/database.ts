import BetterSqlite3, { type Database } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StorageError } from '@kvbench/common';
import { migrate } from './migrations.js';

export type { Database } from 'better-sqlite3';

export interface OpenDatabaseOptions {
  /** Open without write access (readers that must not change the file). */
  readonly?: boolean;
}

/**
 * Open (creating when missing) the aggregator's SQLite database in WAL mode and
 * bring its schema up to date. WAL lets other processes (the CLI, a probe) read
 * the file while the aggregator commits.
 * synchronous=FULL syncs the WAL at every commit: an event is acked only after
 * its commit, so the commit must survive an OS crash too, not only a process
 * crash. Batched commits keep the cost of that sync per batch, not per event.
 */
export function openDatabase(path: string, opts: OpenDatabaseOptions = {}): Database {
  let db: Database;
  try {
    if (path !== ':memory:' && !opts.readonly) mkdirSync(dirname(path), { recursive: true });
    db = new BetterSqlite3(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (cause) {
    throw new StorageError(`cannot open SQLite database ${path}: ${(cause as Error).message}`, { cause });
  }
  try {
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
    }
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // Larger page cache: /results over a million samples reads mostly from memory.
    db.pragma('cache_size = -65536');
    if (!opts.readonly) migrate(db);
  } catch (cause) {
    db.close();
    throw new StorageError(`cannot prepare SQLite database ${path}: ${(cause as Error).message}`, { cause });
  }
  return db;
}
