import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LinkCheckResult, PROBE_EXIT, PROBE_SCRIPT, linkCheck, parseProbeRaw, runProbe, summarizeLinkCheck } from '../src/index.js';
import { MEASURED_DIR, readJson } from './helpers.js';

const run = promisify(execFile);
const hasPython = await run('python3', ['--version']).then(() => true, () => false);
// This (CPU) machine may or may not have PyTorch; it has no CUDA device.
const NO_GPU = [PROBE_EXIT.noTorch, PROBE_EXIT.noCuda];

test('without a CUDA device the probe says so and exits non-zero, measuring nothing', { skip: !hasPython && 'python3 is not installed' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kvbench-probe-'));
  try {
    const out = join(dir, 'raw.json');
    const r = await runProbe(['--out', out, '--quick']);
    assert.ok(NO_GPU.includes(r.code as 3 | 4), `exit code ${r.code}, stderr: ${r.stderr}`);
    assert.match(r.stderr, /PyTorch is not installed|no CUDA device/);
    assert.match(r.stderr, /nothing was measured/);
    assert.equal(r.stdout, '');
    await assert.rejects(run('test', ['-e', out]), 'no output file written');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the probe rejects bad arguments with exit code 2 before looking for a GPU', { skip: !hasPython && 'python3 is not installed' }, async () => {
  const bad = await runProbe(['--model_shape', 'no-such-model']);
  assert.equal(bad.code, PROBE_EXIT.usage);
  assert.match(bad.stderr, /unknown model shape 'no-such-model'/);
  const custom = await runProbe(['--model_shape', 'tiny:layers=2,hidden=64,heads=4,kv_heads=2,head_dim=16,ffn=128,vocab=100', '--quick']);
  assert.ok(NO_GPU.includes(custom.code as 3 | 4), 'a custom shape spec parses');
  const help = await runProbe(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--tokens_per_block/);
});

test('linkCheck on a machine without CUDA returns a clear status, not a throw', { skip: !hasPython && 'python3 is not installed' }, async () => {
  const r = await linkCheck({ timeoutMs: 60_000 });
  assert.ok(r.status === 'no_torch' || r.status === 'no_cuda', JSON.stringify(r));
  assert.match(r.message!, /PyTorch is not installed|no CUDA device/);
  assert.equal(r.pinned, undefined);
  LinkCheckResult.parse(r);
});

test('linkCheck: python3 missing, a crash and a hang are statuses too', async () => {
  const missing = await linkCheck({ python: '/nonexistent/python3' });
  assert.equal(missing.status, 'error');
  assert.match(missing.message!, /could not start/);
  const dir = await mkdtemp(join(tmpdir(), 'kvbench-probe-'));
  try {
    const crash = join(dir, 'crash.mjs');
    await writeFile(crash, "process.stderr.write('Traceback...\\nRuntimeError: CUDA error: out of memory\\n'); process.exit(1);\n");
    const c = await linkCheck({ python: process.execPath, script: crash });
    assert.equal(c.status, 'error');
    assert.match(c.message!, /exited with 1: RuntimeError: CUDA error/);
    const hang = join(dir, 'hang.mjs');
    await writeFile(hang, 'setTimeout(() => {}, 60000);\n');
    const h = await linkCheck({ python: process.execPath, script: hang, timeoutMs: 300 });
    assert.equal(h.status, 'timeout');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('linkCheck summarises quick probe output (the recorded H100 link check)', async () => {
  const quickPath = join(MEASURED_DIR, 'h100-pcie-gen5.quick.raw.json');
  const dir = await mkdtemp(join(tmpdir(), 'kvbench-probe-'));
  try {
    // A stand-in for python3 + the probe: prints the recorded quick output on stdout, checks its flags.
    const fake = join(dir, 'fake-probe.mjs');
    await writeFile(
      fake,
      `import { readFileSync } from 'node:fs';\n` +
        `const a = process.argv.slice(2);\n` +
        `if (!a.includes('--quick') || a[a.indexOf('--model_shape') + 1] !== 'llama-3.1-8b' || a[a.indexOf('--tokens_per_block') + 1] !== '64') process.exit(9);\n` +
        `process.stdout.write(readFileSync(${JSON.stringify(quickPath)}, 'utf8'));\n`,
    );
    const r = await linkCheck({ python: process.execPath, script: fake });
    assert.equal(r.status, 'ok', JSON.stringify(r));
    assert.equal(r.gpu, 'NVIDIA H100 80GB HBM3');
    assert.deepEqual(r.pcie, { gen_current: 5, gen_max: 5, width_current: 16, width_max: 16 });
    assert.deepEqual(r.pinned!.h2d.map(([b]) => b), [1 << 20, 16 << 20, 256 << 20]);
    assert.deepEqual(r.blocks!.map((b) => `${b.layout}:${b.block_bytes}`), ['all_layers:8388608', 'per_layer:262144']);
    assert.ok(r.blocks!.every((b) => b.h2d_GBps && b.d2h_GBps));
    assert.ok(r.bidirectional_total_GBps! > 0);
    assert.ok(JSON.stringify(r).length < 2000, 'small enough for run_meta');
    // The same summary straight from the parsed file.
    const direct = summarizeLinkCheck(parseProbeRaw(readJson(quickPath)), r.at, r.duration_s);
    assert.deepEqual(direct, r);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('PROBE_SCRIPT points at the shipped python file', async () => {
  assert.match(PROBE_SCRIPT, /libs\/probe\/python\/kvbench_probe\.py$/);
  await run('test', ['-f', PROBE_SCRIPT]);
});
