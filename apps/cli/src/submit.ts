import type { AnyWorkload } from '@kvbench/common';
import { KvbenchClient, type RunRequest } from './api-client.js';
import { reportSaved, saveRun } from './results-file.js';
import { watchRun } from './watch.js';

export interface SubmitOptions {
  apiUrl: string;
  aggregatorUrl?: string | undefined;
  token?: string | undefined;
  workload: AnyWorkload;
  run: Omit<RunRequest, "workload_id"> & { system_label: string };
  outputJson: string;
}

/**
 * `kvbench bench --api`: upload the workload (same content, same id), submit the
 * run as a job for its system's agent, follow it live on the aggregator, and merge
 * the stored result into --output_json like a local run.
 */
export async function submitThroughServices(o: SubmitOptions): Promise<number> {
  const client = new KvbenchClient(o.apiUrl, o.aggregatorUrl, o.token);
  const wl = await client.createWorkload({ document: o.workload });
  const accepted = await client.submitRun({ ...o.run, workload_id: wl.id } as RunRequest);
  const { run_id } = accepted;
  console.error(`submitted run ${run_id} (system ${o.run.system_label}, workload ${wl.id})`);
  if (accepted.warning) console.error(`warning: ${accepted.warning}`);
  if (!o.aggregatorUrl) {
    console.error(`no --aggregator given: not following. Status: ${o.apiUrl}/runs/${run_id}`);
    return 0;
  }
  const watched = await watchRun(o.aggregatorUrl, run_id, { token: o.token });
  if (watched.status !== 'completed' || !watched.run) {
    console.error(`run ${run_id} ${watched.status}: ${watched.error ?? 'unknown error'}`);
    return 1;
  }
  return reportSaved(await saveRun(o.outputJson, o.run.system_label, watched.run), o.run.system_label);
}
