import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { freePort, startNatsServer, waitFor, type NatsServerHandle } from '@kvbench/testkit';
import type { Logger } from '@kvbench/common';

const require = createRequire(import.meta.url);
/** Path of a service's compiled process entry (server.js beside its index.js). */
const serverEntry = (pkg: string) => join(dirname(require.resolve(pkg)), 'server.js');

export interface LocalStackOptions {
  /** Folder for the NATS store, the database, agent work dirs and every process's log. */
  dir: string;
  systems: string[];
  log: Logger;
  /** Simulator time scale passed to the agents (SIM_TIME_SCALE). */
  simTimeScale?: number;
  /** Extra environment for every service (e.g. auth tokens). */
  env?: Record<string, string>;
}

export interface LocalStack {
  natsUrl: string;
  apiUrl: string;
  aggregatorUrl: string;
  nats: NatsServerHandle;
  processes: Map<string, ChildProcess>;
  /** Start (or restart) one agent. */
  startAgent(system: string): Promise<ChildProcess>;
  stop(): Promise<void>;
}

/**
 * nats-server, workload-api, aggregator and one host agent per system, each a real
 * process with its own log file under `dir/logs`. What `make demo` and the
 * end-to-end tests run.
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const dir = resolve(opts.dir);
  await mkdir(join(dir, 'logs'), { recursive: true });
  const processes = new Map<string, ChildProcess>();
  const nats = await startNatsServer({ storeDir: join(dir, 'nats') });
  const baseEnv = { ...process.env, NATS_URL: nats.url, LOG_LEVEL: 'info', ...opts.env };

  const spawnService = (name: string, entry: string, env: Record<string, string | undefined>) => {
    const logFile = createWriteStream(join(dir, 'logs', `${name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, [entry], { env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(logFile);
    child.stderr!.pipe(logFile);
    child.on('exit', (code, signal) => {
      if (!stopping) opts.log.warn(`${name} exited (${signal ?? code}); log: ${join(dir, 'logs', `${name}.log`)}`);
    });
    processes.set(name, child);
    return child;
  };
  let stopping = false;

  const apiPort = await freePort();
  const aggPort = await freePort();
  const aggregatorUrl = `http://127.0.0.1:${aggPort}`;
  spawnService('aggregator', serverEntry('@kvbench/aggregator'), {
    PORT: String(aggPort),
    HOST: '127.0.0.1',
    DB_PATH: join(dir, 'aggregator.sqlite'),
  });
  spawnService('workload-api', serverEntry('@kvbench/workload-api'), {
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    AGGREGATOR_URL: aggregatorUrl,
  });
  const startAgent = async (system: string) =>
    spawnService(`agent-${system}`, serverEntry('@kvbench/host-agent'), {
      SYSTEM_LABEL: system,
      AGENT_WORK_DIR: join(dir, `agent-${system}`),
      ...(opts.simTimeScale !== undefined ? { SIM_TIME_SCALE: String(opts.simTimeScale) } : {}),
    });
  for (const s of opts.systems) await startAgent(s);

  const stop = async () => {
    stopping = true;
    await Promise.all([...processes.values()].map((p) => stopProcess(p)));
    await nats.stop();
  };
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  try {
    for (const url of [apiUrl, aggregatorUrl]) {
      await waitFor(async () => (await fetch(`${url}/health`).catch(() => undefined))?.ok, { timeoutMs: 30_000, what: `${url}/health` });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { natsUrl: nats.url, apiUrl, aggregatorUrl, nats, processes, startAgent, stop };
}

/** SIGTERM, then SIGKILL after a grace period. */
export async function stopProcess(p: ChildProcess, graceMs = 5000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((done) => {
    const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
    p.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    p.kill('SIGTERM');
  });
}
