// The README's "Through the services" block run as written: a control plane of this test's own
// (nats-server with JetStream, workload-api, aggregator, as deploy/README.md runs them, on free
// ports), the block's two agent lines started in the background from a folder each, as on their own
// GPU machines (`trtllm-serve` on PATH is the TensorRT-LLM double), then every other line in one
// `bash -euo pipefail` script, so shell variables carry from line to line.
//
// The one line not run as written is the address line (`export NATS_URL=nats://control:4222
// API=http://control:8080 AGG=http://control:8081`): a test cannot use fixed ports nor a host named
// `control`, so it is checked as the README has it and run with the same names bound to this test's
// free ports; every later line reads only those names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, readdir, readlink, realpath, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { consoleLogger } from '@kvbench/common';
import { tempDir, waitFor } from '@kvbench/testkit';
import { startLocalStack, type LocalStack } from '../src/stack.js';
import { ROOT, SERVICES_BLOCK, readmeBlocks, writeTrtllmServeDouble } from './readme-blocks.js';

const execAsync = promisify(execFile);

/** The address line as the README writes it: these names, these values. */
const README_ADDRESSES = { NATS_URL: 'nats://control:4222', API: 'http://control:8080', AGG: 'http://control:8081' };
const ADDRESS_LINE = /^export NATS_URL=(\S+) API=(\S+) AGG=(\S+)$/;
const AGENT_LINE = /^SYSTEM_LABEL=(\S+) .*node services\/host-agent\/dist\/src\/server\.js$/;

interface ServicesBlock {
  addresses: typeof README_ADDRESSES;
  /** By system label. */
  agents: Map<string, string>;
  /** Every other line, in the README's order. */
  client: string[];
}

async function servicesBlock(): Promise<ServicesBlock> {
  const blocks = (await readmeBlocks()).filter((b) => b.some((l) => SERVICES_BLOCK.has.test(l)));
  assert.equal(blocks.length, 1, 'one README block for the services');
  const [first, ...rest] = blocks[0]!;
  const m = ADDRESS_LINE.exec(first ?? '');
  assert.ok(m, `the block starts with the address line: ${first}`);
  const addresses = { NATS_URL: m[1]!, API: m[2]!, AGG: m[3]! };
  assert.deepEqual(addresses, README_ADDRESSES);
  const agents = new Map(rest.filter((l) => AGENT_LINE.test(l)).map((l) => [AGENT_LINE.exec(l)![1]!, l]));
  assert.deepEqual([...agents.keys()], ['pcie', 'c2c']);
  assert.match(agents.get('c2c')!, /LINK_CHECK=1/);
  return { addresses, agents, client: rest.filter((l) => !AGENT_LINE.test(l)) };
}

/** Pids of the processes whose working directory is `dir` or under it (an agent, its engines, their shells). */
async function processesIn(dir: string): Promise<number[]> {
  const real = await realpath(dir);
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
    if (cwd === real || cwd.startsWith(`${real}/`)) pids.push(Number(entry));
  }
  return pids;
}

/** SIGTERM to every process in `dir` (the agent stops its engine on it), SIGKILL to what is left after a minute. */
async function stopProcessesIn(dir: string): Promise<void> {
  const signal = async (sig: NodeJS.Signals) => {
    for (const pid of await processesIn(dir)) {
      try {
        process.kill(pid, sig);
      } catch {
        // exited meanwhile
      }
    }
  };
  await signal('SIGTERM');
  const gone = await waitFor(async () => (await processesIn(dir)).length === 0, { timeoutMs: 60_000, what: `processes in ${dir} to exit` }).then(() => true, () => false);
  if (!gone) await signal('SIGKILL');
}

/** One GPU machine: a folder with the checkout's services and `trtllm-serve` on PATH; the agent line run there. */
async function startAgentMachine(line: string, dir: string, addresses: typeof README_ADDRESSES): Promise<{ child: ChildProcess; output: () => string }> {
  await symlink(join(ROOT, 'services'), join(dir, 'services'));
  const bin = join(dir, 'bin');
  await mkdir(bin);
  await writeTrtllmServeDouble(bin);
  const child = spawn('bash', ['-euo', 'pipefail', '-c', line], {
    cwd: dir,
    env: { ...process.env, ...addresses, PATH: `${bin}:${process.env.PATH ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output };
}

test("the README's services block runs as written: two agents, both bench runs, the curl runs, watch, compare, results", { timeout: 600_000 }, async () => {
  const block = await servicesBlock();
  const root = await tempDir('kvbench-readme-services-');
  const machines = { control: join(root.path, 'control'), client: join(root.path, 'client'), pcie: join(root.path, 'pcie'), c2c: join(root.path, 'c2c') };
  for (const d of Object.values(machines)) await mkdir(d);
  let stack: LocalStack | undefined;
  const agents: { child: ChildProcess; output: () => string }[] = [];
  try {
    // An open bus, as deploy/nats/single.conf: the agent lines carry no NATS user.
    stack = await startLocalStack({ dir: machines.control, systems: [], busAuth: false, log: consoleLogger('warn') });
    const addresses = { NATS_URL: stack.natsUrl, API: stack.apiUrl, AGG: stack.aggregatorUrl };
    for (const [label, line] of block.agents) agents.push(await startAgentMachine(line, machines[label as 'pcie' | 'c2c'], addresses));
    await waitFor(
      async () => {
        const dead = agents.find((a) => a.child.exitCode !== null);
        if (dead) throw new Error(`an agent exited: ${dead.output().slice(-2000)}`);
        const { agents: live } = (await (await fetch(`${stack!.apiUrl}/agents`)).json()) as { agents: { system_label: string }[] };
        return ['pcie', 'c2c'].every((s) => live.some((a) => a.system_label === s));
      },
      { timeoutMs: 300_000, what: 'the pcie and c2c agents on GET /agents' },
    );

    await symlink(join(ROOT, 'kvbench'), join(machines.client, 'kvbench'));
    const script = [`export NATS_URL=${addresses.NATS_URL} API=${addresses.API} AGG=${addresses.AGG}`, ...block.client].join('\n');
    const { stdout, stderr } = await execAsync('bash', ['-euo', 'pipefail', '-c', script], { cwd: machines.client, encoding: 'utf8', maxBuffer: 256 * 2 ** 20, timeout: 540_000 }).catch(
      (e: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`the README's services block failed: ${e.message}\nstdout: ${(e.stdout ?? '').slice(-3000)}\nstderr: ${(e.stderr ?? '').slice(-3000)}\nagents: ${agents.map((a) => a.output().slice(-2000)).join('\n---\n')}`);
      },
    );
    const said = `stdout: ${stdout.slice(-3000)}\nstderr: ${stderr.slice(-3000)}`;

    // Both `kvbench bench --api` runs completed and merged; the same workload as the curl lines' (same content, same id).
    for (const sys of ['pcie', 'c2c']) assert.match(stderr + stdout, new RegExp(`merged into benchmark_results\\.json under runs\\.${sys}`), said);
    const benchWorkloads = new Set([...stderr.matchAll(/submitted run \S+ \(system \S+, workload (wl-[0-9a-f]+)\)/g)].map((m) => m[1]));
    assert.equal(benchWorkloads.size, 1, said);
    const [workloadId] = benchWorkloads;

    // /results of that workload, written by the last line: both systems, the bench's run and the curl's each, every sample ok.
    const results = JSON.parse(await readFile(join(machines.client, 'benchmark_results.json'), 'utf8'));
    for (const sys of ['pcie', 'c2c']) {
      const runs = results.runs[sys] as { samples: { ok: boolean }[]; run_meta: { engine: { build: { version: string } } }; log_metrics: { onboarded_blocks: number | null } }[];
      assert.equal(runs?.length, 2, `${sys}: the bench run and the curl run`);
      for (const run of runs) {
        assert.equal(run.samples.length, 288, sys);
        assert.ok(run.samples.every((s) => s.ok), `${sys}: no failed request`);
        assert.equal(run.run_meta.engine.build.version, '1.3.0rc26', `${sys}: trtllm-serve on the agent's PATH`);
        assert.ok((run.log_metrics.onboarded_blocks ?? 0) > 0, `${sys}: blocks reloaded from the host cache (the comparison exercises the link)`);
      }
    }

    // Each followed run ended on its summary (the two bench runs and the two `kvbench watch` lines), all of workload.json.
    const summaries = [...stdout.matchAll(/^Run (run-\S+) \((PCIe|C2C), workload (wl-[0-9a-f]+)\)/gm)].map((m) => ({ run: m[1], system: m[2], workload: m[3] }));
    assert.deepEqual(summaries.map((x) => x.system).sort(), ['C2C', 'C2C', 'PCIe', 'PCIe'], said);
    assert.ok(summaries.every((x) => x.workload === workloadId), said);
    assert.equal(new Set(summaries.map((x) => x.run)).size, 4, 'four runs');

    // /compare paired pcie against c2c (the latest run of each); the report page the echo line names answers.
    const compareLine = stdout.split('\n').find((l) => l.startsWith('{') && l.includes('"systems"'));
    assert.ok(compareLine, said);
    const compare = JSON.parse(compareLine) as { baseline: string; systems: { key: string; workload_id: string }[] };
    assert.deepEqual(compare.systems.map((x) => x.key).sort(), ['c2c', 'pcie']);
    assert.ok(compare.systems.every((x) => x.workload_id === workloadId));
    const page = /^open (\S+compare\.html\?workload_id=(\S+))$/m.exec(stdout);
    assert.ok(page, said);
    assert.equal(page[2], workloadId, "the curl lines' workload is workload.json's");
    assert.equal((await fetch(page[1]!)).status, 200);
  } finally {
    // Agents and their engines first (they are on this stack's bus), then the control plane.
    await Promise.all([machines.pcie, machines.c2c].map((d) => stopProcessesIn(d)));
    await stack?.stop();
    await root.cleanup();
  }
});
