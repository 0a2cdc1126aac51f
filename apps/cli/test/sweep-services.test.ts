// A sweep through the services, as `kvbench sweep … --api --aggregator` drives it: each point's
// scenario document uploaded to workload-api, run by the system's host agent (which launches the
// simulator), every sample stored by the aggregator with its scenario identity.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { consoleLogger, ResultsDocument } from '@kvbench/common';
import { tempDir } from '@kvbench/testkit';
import { KvbenchClient } from '../src/api-client.js';
import { startLocalStack, type LocalStack } from '../src/stack.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const run = promisify(execFile);

let stack: LocalStack;
let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir('kvbench-sweep-services-');
  stack = await startLocalStack({ dir: dir.path, systems: ['pcie'], log: consoleLogger('warn') });
});
after(async () => {
  await stack?.stop();
  await dir?.cleanup();
});

test('sweep offload --api: points run by the agent, judged from the stored runs, samples tagged with the sweep', { timeout: 300_000 }, async () => {
  await run(process.execPath, [MAIN, 'sweep', 'offload', '--api', stack.apiUrl, '--aggregator', stack.aggregatorUrl, '--systems', 'pcie',
    '--model', 'meta-llama/Llama-3.1-8B-Instruct', '--gpu_kv_max_tokens', '16384', '--host_cache_gb', '2', '--lengths', '8192',
    '--unaligned_offset', '0', '--max_seq_len', '16384', '--max_batch_size', '4', '--time_scale', '0.5',
    '--out', join(dir.path, 'off.json'), '--output_json', join(dir.path, 'runs.json')], { timeout: 280_000 });
  const sweep = JSON.parse(await readFile(join(dir.path, 'off.json'), 'utf8'));
  const point = sweep.points[0].systems.pcie;
  assert.ok(point.offload.valid, point.offload.invalid_reason);
  assert.ok(point.recompute.valid, point.recompute.invalid_reason);
  assert.ok(point.recompute_over_offload > 1);
  // The aggregator holds both runs of the point's workload, each sample with its scenario identity.
  const client = new KvbenchClient(stack.apiUrl, stack.aggregatorUrl);
  const doc = ResultsDocument.parse(await client.results({ workload_id: sweep.points[0].workload_id }));
  const runs = doc.runs.pcie!;
  assert.ok(runs.length >= 1);
  for (const r of runs) {
    assert.equal(r.run_meta.simulated, true);
    const steps = r.samples.map((s) => s.scenario?.step);
    assert.equal(steps[0], 'cold');
    assert.equal(steps.at(-1), 'replay');
    for (const s of r.samples) {
      assert.equal(s.scenario?.sweep_id, sweep.sweep_id);
      assert.equal(s.scenario?.kind, 'offload');
      assert.equal(s.prompt_tokens_server, s.prompt_tokens_client, 'token ids counted as sent');
    }
  }
});
