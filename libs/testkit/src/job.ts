import type { Job } from '@kvbench/common';

/**
 * A schema-valid job for system `pcie` on the engine simulator with its defaults (workload `wl-test`,
 * a fresh run id, 4 output tokens, greedy): the one job literal of the tests; a test sets what it checks.
 */
export function testJob(over: Partial<Job> = {}): Job {
  return {
    schema: 'kvbench.job',
    version: 1,
    run_id: `test-${Math.random().toString(36).slice(2, 10)}`,
    workload_id: 'wl-test',
    system_label: 'pcie',
    model: 'meta-llama/Llama-3.1-8B-Instruct',
    engine: { kind: 'sim', options: {} },
    config_module: 'config_pcie',
    overrides: {},
    max_batch_size: 4,
    max_seq_len: 4096,
    output_tokens: 4,
    temperature: 0,
    top_p: 1,
    notes: '',
    submitted_at: new Date().toISOString(),
    ...over,
  };
}
