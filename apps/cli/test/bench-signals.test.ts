// Standalone `kvbench bench --engine trtllm` stopped the ways a user and a scheduler stop it: SIGTERM
// (systemd, a CI step's timeout, `kill`), Ctrl-C, and an impatient Ctrl-C pressed twice. Each time
// the engine it launched (the TensorRT-LLM double as `trtllm-serve`, in its own process group, so a
// terminal's Ctrl-C never reaches it) is gone when kvbench exits, and kvbench exits 128 + the
// signal's number. Before SIGTERM had a handler, the engine outlived kvbench (shown with this test
// against the earlier bench.ts: the double still ran, exit by signal, no code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, untilOutput, waitFor } from '@kvbench/testkit';
import { processesNaming } from './agent-faults.js';
import { ROOT, writeTrtllmServeDouble } from './readme-blocks.js';

const CASES: { name: string; signals: NodeJS.Signals[]; code: number }[] = [
  { name: 'SIGTERM', signals: ['SIGTERM'], code: 143 },
  { name: 'Ctrl-C', signals: ['SIGINT'], code: 130 },
  { name: 'Ctrl-C twice', signals: ['SIGINT', 'SIGINT'], code: 130 },
];

for (const c of CASES) {
  test(`kvbench bench --engine trtllm, ${c.name} mid-run: the engine it started is stopped, exit ${c.code}`, { timeout: 300_000 }, async () => {
    const dir = await tempDir('kvbench-bench-signal-');
    let configPath: string | undefined;
    try {
      await symlink(join(ROOT, 'kvbench'), join(dir.path, 'kvbench'));
      const bin = join(dir.path, 'bin');
      await mkdir(bin);
      await writeTrtllmServeDouble(bin);
      const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, ...(c.signals.length > 1 ? { FAKE_SHUTDOWN_MS: '3000' } : {}) };
      const gen = spawn('./kvbench', ['workload', 'generate', '--contexts', '32768', '--batches-per-context', '6', '--batch-sizes', '8', '--prompt-pool-size', '8', '--reuse-start-batch', '2', '--out', 'workload.json'], { cwd: dir.path, env, stdio: 'ignore' });
      assert.equal(await new Promise((r) => gen.on('exit', r)), 0);
      const child = spawn(
        './kvbench',
        ['bench', '--engine', 'trtllm', '--model', 'meta-llama/Llama-3.1-8B-Instruct', '--system_label', 'pcie', '--workload_json', 'workload.json', '--output_json', 'results.json', '--max_batch_size', '8', '--max_seq_len', '32784', '--pcie_gpu_kv_max_tokens', '32832'],
        { cwd: dir.path, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
      // The engine is up and requests are going out: the signal lands mid-run.
      configPath = (await untilOutput(child, /starting engine .*"configPath":"([^"]+)"/, 'stderr'))[1]!;
      await untilOutput(child, /replaying workload/, 'stderr');
      assert.ok(processesNaming(configPath).length > 0, 'the engine runs');
      const stopping = untilOutput(child, new RegExp(`${c.signals[0]}: stopping the run`), 'stderr');
      child.kill(c.signals[0]);
      if (c.signals.length > 1) {
        // The second press while kvbench waits for the engine to stop (the engine takes 3 s, FAKE_SHUTDOWN_MS).
        await stopping;
        child.kill(c.signals[1]);
      }
      const end = await exited;
      assert.deepEqual(end, { code: c.code, signal: null }, stderr.slice(-2000));
      assert.match(stderr, new RegExp(`interrupted by ${c.signals[0]}`));
      if (c.signals.length > 1) assert.match(stderr, /SIGINT again: still stopping the engine/);
      // Nothing left of the engine once kvbench has exited, and no results claimed for a run that did not finish.
      await waitFor(() => processesNaming(configPath!).length === 0, { what: 'the engine gone' });
      assert.equal(existsSync(join(dir.path, 'results.json')), false);
    } finally {
      // A failed run must not leave its engine behind for the next test.
      if (configPath) for (const pid of processesNaming(configPath)) process.kill(pid, 'SIGKILL');
      await dir.cleanup();
    }
  });
}
