/**
 * A run's telemetry (issue 23): the series, one row per period per GPU (the primary key makes a
 * redelivered chunk change nothing), and the summary the final telemetry event carries.
 */
import type { Database } from 'better-sqlite3';
import { TELEMETRY_COLUMNS, type RunEventOf, type TelemetryPoint, type TelemetrySummary } from '@kvbench/common';

export function telemetryWriter(db: Database) {
  const insertPoint = db.prepare(
    `INSERT INTO telemetry (run_id, attempt, ${TELEMETRY_COLUMNS.join(', ')}) VALUES (?, ?, ${TELEMETRY_COLUMNS.map(() => '?').join(', ')})
     ON CONFLICT (run_id, attempt, gpu, t_s) DO NOTHING`,
  );
  const insertEvent = db.prepare(
    `INSERT INTO events (run_id, attempt, type, key, at, body) VALUES (?, ?, 'telemetry', ?, ?, ?)
     ON CONFLICT (run_id, attempt, type, key) DO NOTHING`,
  );
  /** Store one telemetry event; true when it was new. The points go to their table, not into the event row. */
  return (e: RunEventOf<'telemetry'>): boolean => {
    const { points, ...rest } = e;
    const r = insertEvent.run(e.run_id, e.attempt, e.final ? 'final' : `chunk:${e.chunk}`, e.at, JSON.stringify({ ...rest, points: points.length }));
    if (r.changes === 0) return false;
    for (const p of points) insertPoint.run(e.run_id, e.attempt, ...TELEMETRY_COLUMNS.map((c) => p[c]));
    return true;
  };
}

export function telemetrySummary(db: Database, runId: string, attempt: number): TelemetrySummary | null {
  const row = db.prepare("SELECT body FROM events WHERE run_id = ? AND attempt = ? AND type = 'telemetry' AND key = 'final'").get(runId, attempt) as
    | { body: string }
    | undefined;
  return row ? ((JSON.parse(row.body) as { summary: TelemetrySummary | null }).summary ?? null) : null;
}

/** The summary's JSON text (or "null"), for documents streamed as text. */
export function telemetrySummaryJson(db: Database, runId: string, attempt: number): string {
  return JSON.stringify(telemetrySummary(db, runId, attempt));
}

export function* telemetryPoints(db: Database, runId: string, attempt: number): Generator<TelemetryPoint> {
  const stmt = db.prepare(`SELECT ${TELEMETRY_COLUMNS.join(', ')} FROM telemetry WHERE run_id = ? AND attempt = ? ORDER BY t_s, gpu`);
  // All at once: bounded by the run's length over the period (36 000 rows per GPU for an hour at 100 ms).
  for (const r of stmt.all(runId, attempt)) yield r as TelemetryPoint;
}
