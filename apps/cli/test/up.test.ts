// `kvbench up` as a user runs it: a child process, the README's curl sequence against it,
// then Ctrl-C (SIGINT), after which no process it started and no port it opened is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { canListen, freePort } from '@kvbench/processes';
import { tempDir, untilOutput, waitFor } from '@kvbench/testkit';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const README = fileURLToPath(new URL('../../../../README.md', import.meta.url));

/** The curl block of the README's "stack that stays up" section, pointed at this test's ports. */
async function readmeCurlSequence(apiUrl: string, aggregatorUrl: string): Promise<string> {
  const readme = await readFile(README, 'utf8');
  const section = readme.slice(readme.indexOf('### A stack that stays up'));
  const blocks = [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const curl = blocks.find((b) => b.includes('curl'));
  assert.ok(curl, 'the README has the curl sequence');
  return curl.replaceAll('http://127.0.0.1:8080', apiUrl).replaceAll('http://127.0.0.1:8081', aggregatorUrl);
}

const processesUnder = (dir: string) =>
  execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(dir) && !l.includes('ps -eo'));

test('kvbench up: URLs answer, the README curl sequence completes, SIGINT leaves nothing behind', { timeout: 600_000 }, async () => {
  const dir = await tempDir('kvbench-up-');
  const [api, agg, nats] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [MAIN, 'up', '--dir', dir.path, '--api-port', String(api), '--aggregator-port', String(agg), '--nats-port', String(nats), '--time-scale', '0.2'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let children: number[] = [];
  try {
    // The banner comes once every part is ready; however long that takes on a loaded machine (it timed
    // out at 60 s once), only kvbench up exiting first fails here. The test's timeout catches a hang.
    await untilOutput(child, /Try it/).catch((err: Error) => assert.fail(`${err.message}\nstderr: ${stderr.slice(-500)}`));
    const apiUrl = `http://127.0.0.1:${api}`;
    const aggregatorUrl = `http://127.0.0.1:${agg}`;
    for (const url of [`${apiUrl}/docs`, `${aggregatorUrl}/docs`, `${apiUrl}/agents`, `${aggregatorUrl}/health`]) {
      assert.ok(stdout.includes(url.replace(/\/(agents|health)$/, '')), `banner names ${url}`);
      assert.equal((await fetch(url)).status, 200, url);
    }
    assert.ok(stdout.includes(`nats://127.0.0.1:${nats}`));
    await waitFor(async () => ((await (await fetch(`${apiUrl}/agents`)).json()) as { agents: unknown[] }).agents.length === 2, { timeoutMs: 300_000, what: 'two agents' });

    const script = await readmeCurlSequence(apiUrl, aggregatorUrl);
    // The banner prints the README's sequence, line for line (they drifted once: the banner kept a
    // workload that never reloaded from the host after the README was re-sized to exercise the link).
    for (const line of script.split('\n').filter((l) => l.trim() !== '')) assert.ok(stdout.includes(line), `the banner prints the README's line: ${line}`);
    const out = execFileSync('bash', ['-euo', 'pipefail', '-c', script], { encoding: 'utf8', timeout: 400_000 });
    assert.match(out, /^event: completed$/m, 'the followed run ended with its completed event');
    assert.match(out, /"verdict":"C2C TTFT p50/, 'the comparison came back');
    const page = /open (\S+compare\.html\?workload_id=\S+)/.exec(out)?.[1];
    assert.ok(page);
    assert.equal((await fetch(page)).status, 200);
  } finally {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(child.pid)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter(Boolean);
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0, stderr.slice(-2000));
  await waitFor(() => processesUnder(dir.path).length === 0, { timeoutMs: 120_000, what: `no process left under ${dir.path}: ${processesUnder(dir.path).join('; ')}` });
  assert.ok(children.length >= 5, `nats-server, two services and two agents were its children (${children.length})`);
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  await waitFor(() => children.every((pid) => !alive(pid)), { timeoutMs: 120_000, what: 'every child of kvbench up to exit' });
  for (const port of [api, agg, nats]) assert.ok(await canListen(port), `port ${port} is free again`);
  await dir.cleanup();
});
