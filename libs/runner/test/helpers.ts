import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunEvent, WorkloadDocument } from '@kvbench/common';
import { silentLogger } from '@kvbench/common';
import { testJob } from '@kvbench/testkit';

/** libs/runner/test (sources), from dist/test. */
export const TEST_SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test');
export const FIXTURES = join(TEST_SRC, 'fixtures');

/**
 * The simulator as the runner meets it in production: a program on disk, spawned like
 * trtllm-serve (the runner, a library, never imports the service; its callers hand in the
 * path). Built by the workspace's `tsc -b` into services/engine-sim/dist.
 */
export const SIM_MAIN = resolve(TEST_SRC, '..', '..', '..', 'services', 'engine-sim', 'dist', 'src', 'main.js');
/** Profiles named explicitly (engine-sim's own default mapping is not the runner's to know). */
export const testSimulator = {
  mainPath: SIM_MAIN,
  defaultProfileForSystem: (label: string) => (label === 'c2c' ? 'gh200-c2c' : 'h100-pcie-gen5'),
};

/** Spawn the simulator's main (`--port 0`) with extra args; resolves with its announced URL. */
export async function spawnSimulator(args: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [SIM_MAIN, ...args, '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /(?:listening on|running on)\s+(https?:\/\/[^\s)]+)/i.exec(out);
      if (m) resolveUrl(m[1]!.replace(/\/+$/, ''));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`simulator exited ${code}: ${out.slice(-2000)}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

export async function fixtureJson<T = unknown>(name: string): Promise<T> {
  return JSON.parse(await readFile(join(FIXTURES, name), 'utf8')) as T;
}
export const fixtureText = (name: string) => readFile(join(FIXTURES, name), 'utf8');

/** The tests' job fixture (@kvbench/testkit): pcie on the simulator with its defaults, workload wl-test. */
export const makeJob = testJob;

/** A hand-built workload: two batches, the second repeating prompts of the first. */
export function tinyWorkload(): WorkloadDocument {
  const words = (seed: number, n: number) => Array.from({ length: n }, (_, i) => `w${(seed * 7919 + i * 104729) % 9973}`).join(' ');
  const prompts = [0, 1, 2].map((i) => ({ id: `p${i}`, context_tokens: 64, tokens: 64, text: words(i + 1, 64) }));
  return {
    schema: 'kvbench.workload',
    version: 1,
    tokenizer: 'cl100k_base',
    params: null,
    prompts,
    batches: [
      { index: 0, context_tokens: 64, delay_ms: 0, requests: prompts.map((p, i) => ({ request_id: `r0-${i}`, prompt_id: p.id, phase: 'cold' as const })) },
      { index: 1, context_tokens: 64, delay_ms: 10, requests: [0, 1].map((i) => ({ request_id: `r1-${i}`, prompt_id: `p${i}`, phase: 'reuse' as const })) },
    ],
  };
}

export function collector() {
  const events: RunEvent[] = [];
  return { events, emit: async (e: RunEvent) => void events.push(e), log: silentLogger };
}

export async function tempDir(prefix = 'kvbench-runner-'): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Write an executable `trtllm-serve` into dir that runs `node <script> "$@"`. */
export async function installFakeTrtllmServe(dir: string, script: string): Promise<string> {
  const path = join(dir, 'trtllm-serve');
  await writeFile(path, `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
  await chmod(path, 0o755);
  return path;
}

export const engineEnv = (binDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: `${binDir}:${process.env.PATH ?? ''}`,
  ...extra,
});
