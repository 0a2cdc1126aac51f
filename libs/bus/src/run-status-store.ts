import type { KV } from '@nats-io/kv';
import { RunStatus } from '@kvbench/common';

/** A run's status entry and its revision; null when absent or not a RunStatus. */
export async function readRunStatusEntry(kv: KV, runId: string): Promise<{ status: RunStatus; revision: number } | null> {
  const entry = await kv.get(runId);
  if (!entry || entry.operation !== 'PUT' || entry.length === 0) return null;
  let value: unknown;
  try {
    value = entry.json();
  } catch {
    return null;
  }
  const parsed = RunStatus.safeParse(value);
  return parsed.success ? { status: parsed.data, revision: entry.revision } : null;
}

/**
 * Read-modify-write of a run's status entry by compare-and-set on its revision, retried when
 * another writer got in between (a cancel racing an agent that takes the job). `change` gets
 * the current status (null: none yet) and returns the next one, or null to leave it as it is.
 * Returns what is stored afterwards.
 */
export async function changeRunStatus(
  kv: KV,
  runId: string,
  change: (current: RunStatus | null) => RunStatus | null,
  tries = 10,
): Promise<RunStatus | null> {
  for (let i = 0; ; i++) {
    const prev = await readRunStatusEntry(kv, runId);
    const next = change(prev?.status ?? null);
    if (!next) return prev?.status ?? null;
    const value = JSON.stringify(RunStatus.parse({ ...next, updated_at: new Date().toISOString() }));
    try {
      if (prev) await kv.update(runId, value, prev.revision);
      else await kv.create(runId, value);
      return RunStatus.parse(JSON.parse(value));
    } catch (err) {
      if (i + 1 >= tries || !isRevisionConflict(err)) throw err;
    }
  }
}

/** Whether a KV write lost a compare-and-set race (wrong last sequence, or the key appeared meanwhile). */
export function isRevisionConflict(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10071 || /wrong last sequence|key exists/i.test(e?.message ?? '');
}

/** Whether a user asked to cancel the run (cancelled while queued, or a cancel requested while running). */
export const cancelRequested = (s: RunStatus | undefined | null): boolean => !!s && (s.status === 'cancelled' || s.cancel_requested_at !== null);
