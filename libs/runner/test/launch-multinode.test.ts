/**
 * The custom launch path as the README gives it for several nodes: `--launch_command mpirun -n 2
 * trtllm-llmapi-launch trtllm-serve` with `--tp_size 2` (ENGINES.md: one node spawns its own ranks
 * from --tp_size; several go through trtllm-llmapi-launch under mpirun/srun, where rank 0 is the
 * server). kvbench appends the model and its flags, runs the workload, and stops every rank.
 */
import assert from 'node:assert/strict';
import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runBenchmark } from '@kvbench/runner';
import { collector, engineEnv, FIXTURES, makeJob, tempDir, tinyWorkload } from './helpers.js';

let dir: { path: string; cleanup(): Promise<void> };
before(async () => {
  dir = await tempDir();
});
after(() => dir.cleanup());

async function shim(bin: string, name: string, script: string, env = '') {
  const p = join(bin, name);
  await writeFile(p, `#!/bin/sh\n${env}exec "${process.execPath}" "${join(FIXTURES, script)}" "$@"\n`);
  await chmod(p, 0o755);
}

test('mpirun -n 2 trtllm-llmapi-launch trtllm-serve --tp_size 2: one server (rank 0), a worker, both stopped after the run', async () => {
  const bin = join(dir.path, 'bin');
  const marks = join(dir.path, 'marks');
  await mkdir(bin, { recursive: true });
  await mkdir(marks, { recursive: true });
  await shim(bin, 'mpirun', 'fake-mpirun.mjs');
  await shim(bin, 'trtllm-llmapi-launch', 'fake-trtllm-llmapi-launch.mjs');
  await shim(bin, 'trtllm-serve', 'trtllm-serve-double.mjs', "FAKE_TRTLLM_VERSION='1.3.0' ");
  const c = collector();
  const launch = ['mpirun', '-n', '2', 'trtllm-llmapi-launch', 'trtllm-serve'];
  const job = makeJob({ engine: { kind: 'trtllm', launch_command: launch, options: { tp_size: 2 } } });
  const result = await runBenchmark({
    job, workload: tinyWorkload(), attempt: 1, emit: c.emit, log: c.log,
    agent: { workDir: dir.path, engineEnv: engineEnv(bin, { FAKE_LAUNCH_DIR: marks }), collectEnvironment: false, stopGraceMs: 5_000 },
  });
  assert.equal(result.samples.length, 5);
  assert.ok(result.samples.every((s) => s.ok), result.samples.map((s) => s.error).join('; '));
  const argv = (result.run_meta as Record<string, any>).engine.argv as string[];
  assert.deepEqual(argv.slice(0, launch.length + 1), [...launch, job.model]);
  assert.deepEqual(argv.slice(argv.indexOf('--tp_size'), argv.indexOf('--tp_size') + 2), ['--tp_size', '2']);
  // The build was detected from the trtllm-serve on PATH, so the config flag is 1.3's.
  assert.ok(argv.includes('--config'));
  const rank0 = JSON.parse(await readFile(join(marks, 'rank-0.started'), 'utf8')) as string[];
  assert.equal(rank0[0], 'trtllm-serve');
  await access(join(marks, 'rank-1.started'));
  for (const r of [0, 1]) await access(join(marks, `rank-${r}.stopped`)); // kvbench stopped the whole group
});
