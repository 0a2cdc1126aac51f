import { NotFoundError, type RunStatus } from '@kvbench/common';
import { readRunStatusEntry } from '@kvbench/bus';
import type { KV } from '@nats-io/kv';
import { busCall } from '../bus-call.js';

export async function getRunStatus(runs: KV, runId: string): Promise<RunStatus> {
  const entry = await busCall('runs bucket', () => readRunStatusEntry(runs, runId, { strict: true }));
  if (!entry) throw new NotFoundError('run', runId);
  return entry.status;
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
      const entry = await readRunStatusEntry(runs, key);
      if (!entry) continue;
      if (filter.system_label && entry.status.system_label !== filter.system_label) continue;
      if (filter.status && entry.status.status !== filter.status) continue;
      out.push(entry.status);
    }
    out.sort((a, b) => b.submitted_at.localeCompare(a.submitted_at) || b.run_id.localeCompare(a.run_id));
    return out.slice(0, filter.limit);
  });
}
