// The original presets (4096 / 2048 GPU tokens) cannot hold 32K-128K prompts; TensorRT-LLM
// would refuse every request. kvbench says so before starting an engine, with the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@kvbench/testkit';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const kvbench = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });

test('bench refuses a workload the GPU pool cannot hold, naming the override that fixes it', async () => {
  const dir = await tempDir();
  try {
    const wl = join(dir.path, 'w.json');
    assert.equal(kvbench(['workload', 'generate', '--contexts', '8192', '--batches-per-context', '1', '--batch-sizes', '2', '--out', wl]).status, 0);
    const r = kvbench(['bench', '--model', 'm', '--config_module', 'config_c2c', '--system_label', 'c2c', '--workload_json', wl,
      '--output_json', join(dir.path, 'r.json')]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /config_c2c \(2048 tokens\)/);
    assert.match(r.stderr, /--c2c_gpu_kv_max_tokens 8256/);
  } finally {
    await dir.cleanup();
  }
});
