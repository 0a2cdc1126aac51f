/**
 * Every TensorRT-LLM generation users have, launched as a user would: `kvbench bench --engine trtllm`,
 * with a `trtllm-serve` first on PATH whose version is known only from its own banner, and a `python3`
 * that has no tensorrt_llm. The double (libs/runner/test/fixtures/trtllm-serve-double.mjs) copies each
 * build's behaviour from the upstream PRs it cites, counts what it really did, and writes that down.
 * Done when: no failed request, the detected version is the banner's, offload/onboard exact from
 * 1.3.0rc8 (PR #12413) and null before it with the true reason, and no engine ever broken (issue #4666).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '@kvbench/testkit';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const DOUBLE = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', '..', 'libs', 'runner', 'test', 'fixtures', 'trtllm-serve-double.mjs');

let dir: { path: string; cleanup(): Promise<void> };
let workload: string;
before(async () => {
  dir = await tempDir();
  workload = join(dir.path, 'w.json');
  // 512-token prompts, some reused, against a 1024-token GPU pool with a host cache: blocks go both ways.
  const r = spawnSync(process.execPath, [MAIN, 'workload', 'generate', '--contexts', '512', '--batches-per-context', '4', '--batch-sizes', '2', '3', '--prompt-pool-size', '3', '--reuse-start-batch', '2', '--seed', '11', '--out', workload], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
after(() => dir.cleanup());

function kvbench(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (status) => done({ status, stdout, stderr }));
  });
}

const GENERATIONS: { version: string; offloadCounted: boolean }[] = [
  { version: '1.0.1', offloadCounted: false },
  { version: '1.1.0', offloadCounted: false },
  { version: '1.2.0', offloadCounted: false },
  { version: '1.3.0rc8', offloadCounted: true },
  { version: '1.3.0rc14', offloadCounted: true },
  { version: '1.3.0rc26', offloadCounted: true }, // today's main
];

// Side by side: each generation is its own `kvbench bench` with its own double on its own port and
// folder, and waits most of its time on the engine's 2 s long polls (ENGINES.md); one after another the
// six took 42 s for 7 s of CPU.
describe('kvbench bench on every TensorRT-LLM generation', { concurrency: true }, () => {
  for (const g of GENERATIONS) {
    test(`kvbench bench --engine trtllm on TensorRT-LLM ${g.version} (version known only from trtllm-serve's banner)`, async () => {
      const bin = join(dir.path, `bin-${g.version}`);
      await mkdir(bin, { recursive: true });
      await writeFile(join(bin, 'trtllm-serve'), `#!/bin/sh\nFAKE_TRTLLM_VERSION='${g.version}' exec "${process.execPath}" "${DOUBLE}" "$@"\n`);
      await writeFile(join(bin, 'python3'), `#!/bin/sh\necho "ModuleNotFoundError: No module named 'tensorrt_llm'" >&2\nexit 1\n`);
      await chmod(join(bin, 'trtllm-serve'), 0o755);
      await chmod(join(bin, 'python3'), 0o755);
      const truthPath = join(bin, 'truth.json');
      const out = join(bin, 'results.json');
      const r = await kvbench(
        ['bench', '--engine', 'trtllm', '--model', 'm', '--system_label', 'pcie', '--workload_json', workload, '--output_json', out,
          '--max_batch_size', '3', '--max_seq_len', '4096', '--output_tokens', '4', '--gpu_kv_max_tokens', '1024', '--host_cache_gb', '1'],
        { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, FAKE_TRUTH: truthPath },
      );
      assert.equal(r.status, 0, r.stderr);
      const run = JSON.parse(await readFile(out, 'utf8')).runs.pcie.at(-1);
      const truth = JSON.parse(await readFile(truthPath, 'utf8'));
      const m = run.log_metrics;
      const meta = run.run_meta;
      assert.ok(run.samples.length > 0 && run.samples.every((s: { ok: boolean }) => s.ok), 'no failed request');
      assert.equal(meta.engine.build.version, g.version, 'detected version = the banner\'s');
      assert.equal(truth.eventThreadDied, false);
      assert.equal(truth.effective.event_buffer_max_size, 0, 'no KV event buffer switched on');
      assert.ok(truth.offloadBlocks > 0 && truth.onboardBlocks > 0, 'the workload moved blocks both ways');
      assert.equal(m.reused_blocks, truth.reused, m.null_reasons.reused_blocks);
      if (g.offloadCounted) {
        assert.equal(m.offloaded_blocks, truth.offloadBlocks);
        assert.equal(m.onboarded_blocks, truth.onboardBlocks);
        assert.equal(m.offloaded_bytes, truth.offloadBytes);
        assert.equal(m.onboarded_bytes, truth.onboardBytes);
      } else {
        for (const f of ['offloaded_blocks', 'onboarded_blocks', 'offloaded_bytes', 'onboarded_bytes']) {
          assert.equal(m[f], null, f);
          assert.match(m.null_reasons[f], /no offload counters: kvCacheIterationStats arrives with PR #12413.*PR #11576 \(issue #4666\)/, f);
        }
      }
    });
  }
});
