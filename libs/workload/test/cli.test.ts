import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readWorkloadFile, serializeWorkload, workloadId } from '../src/index.js';

const run = promisify(execFile);
// The compiled CLI of this checkout (apps/cli/dist), built by `tsc -b` before tests run.
const main = fileURLToPath(new URL('../../../../apps/cli/dist/src/main.js', import.meta.url));
const kvbench = (args: string[]) => run(process.execPath, [main, ...args]);
const flags = ['--contexts', '300', '64', '--batches-per-context', '4', '--batch-sizes', '2', '5', '--prompt-pool-size', '3', '--reuse-start-batch', '2', '--delay-ms', '10', '--seed', '9'];

test('kvbench workload generate: same flags twice give the same bytes; the original name works too', async () => {
  assert.ok(existsSync(main), `${main} is missing: build apps/cli first`);
  const dir = await mkdtemp(join(tmpdir(), 'kvbench-cli-'));
  try {
    const a = await kvbench(['workload', 'generate', ...flags, '--out', join(dir, 'a.json')]);
    await kvbench(['workload_generator.py', ...flags, '--out', join(dir, 'b.json')]);
    await kvbench(['workload', 'generate', ...flags, '--seed', '10', '--out', join(dir, 'c.json')]);
    const [bytesA, bytesB, bytesC] = await Promise.all(['a', 'b', 'c'].map((n) => readFile(join(dir, `${n}.json`))));
    assert.ok(bytesA!.equals(bytesB!), 'byte-identical');
    assert.ok(!bytesA!.equals(bytesC!), 'another seed differs');
    const doc = await readWorkloadFile(join(dir, 'a.json'));
    assert.equal(serializeWorkload(doc), bytesA!.toString('utf8'));
    assert.deepEqual(doc.params, { contexts: [300, 64], batches_per_context: 4, batch_sizes: [2, 5], prompt_pool_size: 3, reuse_start_batch: 2, delay_ms: 10, seed: 9 });
    assert.match(a.stdout, new RegExp(`${doc.prompts.length} prompts, .* id ${workloadId(doc)}`));

    await kvbench(['workload', 'generate', ...flags, '--format', 'seed', '--out', join(dir, 's.json')]);
    const seed = JSON.parse(await readFile(join(dir, 's.json'), 'utf8'));
    assert.ok(Array.isArray(seed) && seed.length === 8);
    const show = await kvbench(['workload', 'show', join(dir, 's.json')]);
    assert.equal(JSON.parse(show.stdout.slice(show.stdout.indexOf('{'))).requests, doc.batches.reduce((n, b) => n + b.requests.length, 0));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('kvbench workload generate: defaults, --help, and bad flags exit 2 naming the flag', async () => {
  const help = await kvbench(['workload', 'generate', '--help']);
  for (const f of ['--contexts', '--batches-per-context', '--batch-sizes', '--prompt-pool-size', '--reuse-start-batch', '--delay-ms', '--seed', '--out', '--format']) {
    assert.ok(help.stdout.includes(f), f);
  }
  await assert.rejects(kvbench(['workload', 'generate', '--out', '/dev/null']), (e: any) => e.code === 2 && /--contexts/.test(e.stderr));
  await assert.rejects(kvbench(['workload', 'generate', '--contexts', '8', '--format', 'yaml']), (e: any) => e.code === 2 && /--format/.test(e.stderr));
  await assert.rejects(kvbench(['workload', 'generate', '--contexts', '8', '--bogus', '1']), (e: any) => e.code === 2 && /bogus/.test(e.stderr));
  const dir = await mkdtemp(join(tmpdir(), 'kvbench-cli-'));
  try {
    // Only --contexts: everything else takes WorkloadParams' defaults, and --out defaults to workload.json.
    await run(process.execPath, [main, 'workload', 'generate', '--contexts', '16'], { cwd: dir });
    const doc = await readWorkloadFile(join(dir, 'workload.json'));
    assert.deepEqual(doc.params, { contexts: [16], batches_per_context: 5, batch_sizes: [8, 16, 32], prompt_pool_size: 16, reuse_start_batch: 3, delay_ms: 0, seed: 42 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
