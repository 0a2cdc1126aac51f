import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from '@kvbench/testkit';

const SERVER_JS = fileURLToPath(new URL('../src/server.js', import.meta.url));

/** The compiled aggregator process (dist/src/server.js), started with its own environment. */
export interface AggregatorProcess {
  url: string;
  proc: ChildProcess;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<number | null | string>;
}

export async function spawnAggregator(env: Record<string, string>): Promise<AggregatorProcess> {
  const port = await freePort();
  const proc = spawn(process.execPath, [SERVER_JS], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null | string>((resolve) => proc.once('exit', (code, sig) => resolve(sig ?? code)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (proc.exitCode !== null) throw new Error(`aggregator exited: ${out}`);
      return fetch(`${url}/health`).then((r) => r.ok, () => false);
    },
    { timeoutMs: 120_000, what: 'aggregator process listening' },
  );
  return {
    url,
    proc,
    output: () => out,
    kill: async (signal) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
