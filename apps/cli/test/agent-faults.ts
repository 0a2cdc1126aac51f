// What the agent-fault tests (agent-crash: SIGKILL, agent-lost: SIGSTOP) share: a run long enough
// for a fault to land mid-run, and a look at the engine processes an agent left behind. Also the
// simulator run body that every whole-stack test of the CLI submits (simRun).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Eight batches 1.5 s apart (modelled): a fault after the first sample lands mid-run. */
export const MID_RUN_WORKLOAD = { contexts: [512], batches_per_context: 8, batch_sizes: [2], prompt_pool_size: 2, reuse_start_batch: 1, delay_ms: 1500, seed: 5 };

/**
 * A run on the engine simulator with a cache small enough to offload (add workload_id and system_label):
 * 4 output tokens at time scale 0.2 unless a test that only needs runs to end asks for fewer and faster.
 */
export function simRun({ outputTokens = 4, timeScale = 0.2 }: { outputTokens?: number; timeScale?: number } = {}) {
  return {
    model: 'meta-llama/Llama-3.1-8B-Instruct',
    overrides: { gpu_kv_max_tokens: 2048, host_cache_gb: 1 },
    max_batch_size: 4,
    max_seq_len: 4096,
    output_tokens: outputTokens,
    engine: { kind: 'sim' as const, options: { time_scale: timeScale } },
  };
}

/** A simulator run at time scale 0.2 on a pcie agent (add workload_id). */
export const SIM_RUN = { system_label: 'pcie', ...simRun() };

/** GET /runs/:id of the aggregator, the parts these tests read. */
export interface RunDetail {
  status: string;
  received_samples: number;
  attempts: { attempt: number; status: string; in_results: boolean; received_samples: number }[];
}

/** Pids of the processes whose command line names every one of `needles` (this test process left out). */
export function processesNaming(...needles: string[]): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.trim() !== '' && needles.every((n) => l.includes(n)))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .filter((pid) => pid !== process.pid);
}

/** Pids of engine simulator processes whose arguments name `dir` (their YAML lives in the agent's work dir). */
export function enginesUnder(dir: string): number[] {
  return processesNaming('engine-sim', dir);
}

/** Whether a process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
