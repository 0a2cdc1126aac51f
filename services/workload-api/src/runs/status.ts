import { NotFoundError, RunStatus, StorageError } from '@kvbench/common';
import type { KV } from '@nats-io/kv';
import { busCall } from '../bus-call.js';

export async function getRunStatus(runs: KV, runId: string): Promise<RunStatus> {
  const entry = await busCall('runs bucket', () => runs.get(runId));
  if (!entry || entry.operation !== 'PUT' || entry.length === 0) throw new NotFoundError('run', runId);
  const parsed = RunStatus.safeParse(safeJson(entry));
  if (!parsed.success) throw new StorageError(`run ${runId}: stored status does not match the RunStatus schema`, { cause: parsed.error });
  return parsed.data;
}

export interface RunFilter {
  system_label?: string | undefined;
  status?: RunStatus['status'] | undefined;
  limit: number;
}

/** Newest first. Entries that do not parse (written by something else) are skipped. */
export async function listRuns(runs: KV, filter: RunFilter): Promise<RunStatus[]> {
  return busCall('runs bucket', async () => {
    const out: RunStatus[] = [];
    for await (const key of await runs.keys()) {
      const entry = await runs.get(key);
      if (!entry || entry.operation !== 'PUT' || entry.length === 0) continue;
      const parsed = RunStatus.safeParse(safeJson(entry));
      if (!parsed.success) continue;
      if (filter.system_label && parsed.data.system_label !== filter.system_label) continue;
      if (filter.status && parsed.data.status !== filter.status) continue;
      out.push(parsed.data);
    }
    out.sort((a, b) => b.submitted_at.localeCompare(a.submitted_at) || b.run_id.localeCompare(a.run_id));
    return out.slice(0, filter.limit);
  });
}

function safeJson(entry: { json<T>(): T }): unknown {
  try {
    return entry.json();
  } catch {
    return undefined;
  }
}
