import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@kvbench/common';
import { READY_TIMEOUT_MS, portOpen, waitFor } from './wait.js';

/** A fresh folder under the OS temp dir, and the function that removes it. */
export async function tempDir(prefix = 'kvbench-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export interface NatsServerHandle {
  url: string;
  port: number;
  storeDir: string;
  process: ChildProcess;
  /** Stop (SIGTERM) and wait for exit. Keeps the store dir. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port and store dir (for restart tests). */
  restart(): Promise<void>;
  /** Stop and delete the store dir. */
  close(): Promise<void>;
}

/**
 * Spawn a real nats-server with JetStream on a free port and a temporary store
 * directory. Never uses the machine's 4222 server.
 */
export async function startNatsServer(
  opts: { port?: number; storeDir?: string; args?: string[]; /** The server's environment (a config's $VARIABLES). */ env?: NodeJS.ProcessEnv } = {},
): Promise<NatsServerHandle> {
  const port = opts.port ?? (await freePort());
  const dir = opts.storeDir ? { path: opts.storeDir, cleanup: async () => {} } : await tempDir('kvbench-nats-');
  const bin = process.env.NATS_SERVER_BIN ?? 'nats-server';
  let proc!: ChildProcess;
  const launch = async () => {
    proc = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir.path, ...(opts.args ?? [])], {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(opts.env ? { env: opts.env } : {}),
    });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) => reject(new Error(`nats-server exited (${code}): ${stderr}`))),
    );
    exited.catch(() => {});
    await Promise.race([waitFor(() => portOpen(port), { timeoutMs: READY_TIMEOUT_MS, what: `nats-server on ${port}` }), exited]);
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: dir.path,
    get process() {
      return proc;
    },
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    close: async () => {
      await stop();
      await dir.cleanup();
    },
  };
}
