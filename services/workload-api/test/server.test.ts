import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort, startNatsServer, waitFor, type NatsServerHandle } from '@kvbench/testkit';
import { SMALL_PARAMS } from './helpers.js';

const serverJs = fileURLToPath(new URL('../src/server.js', import.meta.url));

describe('server process', () => {
  let nats: NatsServerHandle;
  before(async () => {
    nats = await startNatsServer();
  });
  after(async () => {
    await nats?.close();
  });

  function start(env: Record<string, string>): { proc: ChildProcess; output: () => string } {
    const proc = spawn(process.execPath, [serverJs], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    return { proc, output: () => out };
  }

  it('serves real HTTP from the environment and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const token = 'server-test-token-6f2d9a';
    const { proc, output } = start({ NATS_URL: nats.url, PORT: String(port), AUTH_TOKENS: token });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(() => fetch(`${base}/health`).then((r) => r.ok, () => false), { timeoutMs: 120_000, what: 'workload-api to listen' });
      const denied = await fetch(`${base}/workloads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ params: SMALL_PARAMS }) });
      assert.equal(denied.status, 401);
      const created = await fetch(`${base}/workloads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ params: SMALL_PARAMS }),
      });
      assert.equal(created.status, 201);
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0, output());
      assert.ok(!output().includes(token), 'the token is never logged');
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  });

  it('refuses to start with a bad variable, naming it', async () => {
    const { proc, output } = start({ NATS_URL: nats.url, MAX_BATCHES: 'many' });
    const [code] = await once(proc, 'exit');
    assert.equal(code, 2);
    assert.match(output(), /MAX_BATCHES/);
  });
});
