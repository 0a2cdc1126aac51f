import type { Database } from 'better-sqlite3';
import type { Sample } from '@kvbench/common';

const PAGE = 1000;

/** Stored samples of one attempt with an id above `afterId`, in commit order, one page. */
export function samplesAfter(db: Database, runId: string, attempt: number, afterId: number, limit = PAGE): { id: number; sample: Sample }[] {
  const rows = db
    .prepare('SELECT id, body FROM samples WHERE run_id = ? AND attempt = ? AND id > ? ORDER BY id LIMIT ?')
    .all(runId, attempt, afterId, limit) as { id: number; body: string }[];
  return rows.map((r) => ({ id: r.id, sample: JSON.parse(r.body) as Sample }));
}

/** Stored lifecycle event body of an attempt (accepted, started, completed, failed), or null. */
export function lifecycleEvent(db: Database, runId: string, attempt: number, type: string): Record<string, unknown> | null {
  const row = db
    .prepare("SELECT body FROM events WHERE run_id = ? AND attempt = ? AND type = ? AND key = '' ")
    .get(runId, attempt, type) as { body: string } | undefined;
  return row ? (JSON.parse(row.body) as Record<string, unknown>) : null;
}
