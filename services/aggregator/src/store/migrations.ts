import type { Database } from 'better-sqlite3';

/**
 * Versioned schema migrations. Each runs once, in order, inside a transaction
 * that also records it in `schema_migrations`. Never edit a released migration:
 * add a new one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, attempts, events, samples',
    sql: `
      CREATE TABLE runs (
        run_id         TEXT PRIMARY KEY,
        system_label   TEXT NOT NULL,
        workload_id    TEXT,
        model          TEXT,
        job_json       TEXT,
        -- derived after each commit: queued | running | completed | failed
        status         TEXT NOT NULL DEFAULT 'queued',
        -- the attempt whose samples make the results (latest attempt with a completed event)
        result_attempt INTEGER,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL,
        completed_at   TEXT
      );
      CREATE INDEX runs_by_workload ON runs (workload_id, system_label, completed_at);
      CREATE INDEX runs_by_label ON runs (system_label, completed_at);
      CREATE INDEX runs_by_status ON runs (status);

      CREATE TABLE attempts (
        run_id            TEXT NOT NULL REFERENCES runs (run_id),
        attempt           INTEGER NOT NULL,
        expected_samples  INTEGER,
        sample_count      INTEGER,
        received_samples  INTEGER NOT NULL DEFAULT 0,
        window_s          REAL,
        run_meta_json     TEXT,
        log_metrics_json  TEXT,
        log_metrics_final INTEGER NOT NULL DEFAULT 0,
        -- set once the completed event is stored and every sample it announced is stored
        aggregate_json    TEXT,
        error             TEXT,
        log_tail_json     TEXT,
        failed_final      INTEGER,
        accepted_at       TEXT,
        started_at        TEXT,
        completed_at      TEXT,
        failed_at         TEXT,
        complete_at       TEXT,
        PRIMARY KEY (run_id, attempt)
      ) WITHOUT ROWID;

      -- Lifecycle and engine statistics events, one row per (run, attempt, type, key):
      -- key is '' for lifecycle events and 'final' or the publish time for engine stats.
      CREATE TABLE events (
        id       INTEGER PRIMARY KEY,
        run_id   TEXT NOT NULL,
        attempt  INTEGER NOT NULL,
        type     TEXT NOT NULL,
        key      TEXT NOT NULL,
        at       TEXT NOT NULL,
        body     TEXT NOT NULL,
        UNIQUE (run_id, attempt, type, key)
      );

      -- One row per request of an attempt; id is the SSE event id (monotonic in commit order).
      CREATE TABLE samples (
        id             INTEGER PRIMARY KEY,
        run_id         TEXT NOT NULL,
        attempt        INTEGER NOT NULL,
        request_id     TEXT NOT NULL,
        batch_index    INTEGER NOT NULL,
        index_in_batch INTEGER NOT NULL,
        ok             INTEGER NOT NULL,
        scheduled_at_s REAL NOT NULL,
        ttft_s         REAL,
        latency_s      REAL,
        body           TEXT NOT NULL,
        UNIQUE (run_id, attempt, request_id)
      );
      CREATE INDEX samples_in_order ON samples (run_id, attempt, batch_index, index_in_batch);
    `,
  },
  {
    version: 2,
    name: 'samples: context_tokens and phase columns (comparisons read columns, not JSON)',
    sql: `
      ALTER TABLE samples ADD COLUMN context_tokens INTEGER;
      ALTER TABLE samples ADD COLUMN phase TEXT;
      UPDATE samples SET context_tokens = json_extract(body, '$.context_tokens'), phase = json_extract(body, '$.phase');
    `,
  },
  {
    version: 3,
    name: 'attempts: cancelled_at (a cancelled run never enters results)',
    sql: `
      ALTER TABLE attempts ADD COLUMN cancelled_at TEXT;
    `,
  },
  {
    version: 4,
    name: 'telemetry: one row per period per GPU (issue 23)',
    sql: `
      CREATE TABLE telemetry (
        run_id        TEXT NOT NULL,
        attempt       INTEGER NOT NULL,
        gpu           INTEGER NOT NULL,
        t_s           REAL NOT NULL,
        dt_s          REAL NOT NULL,
        pcie_tx_bytes REAL,
        pcie_rx_bytes REAL,
        c2c_tx_bytes  REAL,
        c2c_rx_bytes  REAL,
        util_pct      REAL,
        sm_clock_mhz  REAL,
        power_w       REAL,
        energy_j      REAL,
        mem_used_bytes REAL,
        PRIMARY KEY (run_id, attempt, gpu, t_s)
      ) WITHOUT ROWID;
    `,
  },
];

/** Apply every migration newer than the database's version. Returns the versions applied. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const current = (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
    })();
    applied.push(m.version);
  }
  return applied;
}

export function schemaVersion(db: Database): number {
  return (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v;
}
