/**
 * Running the probe script: python3 on python/kvbench_probe.py, never through a shell.
 */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** python/kvbench_probe.py of this package (found from dist/src/run.js or src/run.ts). */
export const PROBE_SCRIPT: string = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'python', 'kvbench_probe.py');

/** The probe's exit codes (see the script's docstring). */
export const PROBE_EXIT = Object.freeze({ ok: 0, error: 1, usage: 2, noTorch: 3, noCuda: 4 });

export interface RunProbeOptions {
  /** Python interpreter (default `python3`). */
  python?: string;
  /** Script path (default PROBE_SCRIPT). */
  script?: string;
  /** Kill the probe after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** Environment for the child (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Called with each chunk of the probe's stderr (its progress lines). */
  onStderr?: (chunk: string) => void;
}

export interface RunProbeResult {
  /** Exit code; null when killed. */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  /** Last 8 KiB of stderr. */
  stderr: string;
  /** Set when python3 itself could not be started (ENOENT ...). */
  spawnError?: Error;
}

const STDERR_KEEP = 8192;

/** Run the probe script with `args`; resolves when it exits (never rejects). */
export function runProbe(args: readonly string[], opts: RunProbeOptions = {}): Promise<RunProbeResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(opts.python ?? 'python3', [opts.script ?? PROBE_SCRIPT, ...args], {
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...(opts.env ?? process.env), PYTHONUNBUFFERED: '1' },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let spawnError: Error | undefined;
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs);
    }
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-STDERR_KEEP);
      opts.onStderr?.(d);
    });
    child.on('error', (err) => {
      spawnError = err;
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolvePromise({ code, signal, timedOut, stdout, stderr, ...(spawnError ? { spawnError } : {}) });
    });
  });
}
