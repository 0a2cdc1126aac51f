// What a new user meets first, on real processes: following a run the moment it was accepted,
// the agents they can see, cancelling, and the CLI against services that require a token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResultsDocument, consoleLogger } from '@kvbench/common';
import { tempDir, waitFor } from '@kvbench/testkit';
import { KvbenchClient, ApiError } from '../src/api-client.js';
import { startLocalStack, type LocalStack } from '../src/stack.js';
import { simRun } from './agent-faults.js';

const TOKEN = 'first-contact-secret';
const TINY = { contexts: [512], batches_per_context: 1, batch_sizes: [1], prompt_pool_size: 1, reuse_start_batch: 1, delay_ms: 0, seed: 3 };
const RUN = simRun({ outputTokens: 2, timeScale: 0.05 });
const auth = { authorization: `Bearer ${TOKEN}` };
const CLI = fileURLToPath(new URL('../src/main.js', import.meta.url));

/** The whole SSE body of a run's event stream (the server ends it after the final event) and its status. */
async function followToEnd(url: string): Promise<{ status: number; events: string[] }> {
  const res = await fetch(url, { headers: { ...auth, accept: 'text/event-stream' } });
  const text = await res.text();
  return { status: res.status, events: [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]!) };
}

/** Engine simulator processes started under this stack's folder (their YAML lives in the agents' work dirs). */
function enginesUnder(dir: string): number {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes('engine-sim') && l.includes(dir)).length;
}

describe('first contact: follow at once, agents, cancel, tokens', () => {
  let stack: LocalStack;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let client: KvbenchClient;
  let workloadId: string;

  before(async () => {
    dir = await tempDir('kvbench-first-contact-');
    stack = await startLocalStack({
      dir: dir.path,
      systems: ['pcie', 'c2c'],
      // The gb200 agent starts only later (a label no agent serves yet); its bus user exists from the start.
      agentLabels: ['gb200'],
      log: consoleLogger('warn'),
      env: { AUTH_TOKENS: TOKEN, READ_TOKEN: TOKEN, READS_REQUIRE_AUTH: 'true' },
    });
    client = new KvbenchClient(stack.apiUrl, stack.aggregatorUrl, TOKEN);
    workloadId = (await client.createWorkload({ params: TINY })).id;
  });
  after(async () => {
    await stack?.stop();
    await dir?.cleanup();
  });

  // The user's flow: submit, then follow at once. It was 50 runs (about 400 s). The defect it guards, the
  // aggregator answering 404 for a run accepted but not ingested yet, is a race this loop cannot force:
  // with the wait removed (knownRunOrWait answering 404 at once) 6 follows still passed twice here. The
  // race is forced step by step in services/aggregator/test/known-run.unit.test.ts (which then fails);
  // this keeps a few real follows, alternating the two agents, each stream ending with the run's end.
  const FOLLOWS = 6;
  test(`submit then open the event stream with no delay, ${FOLLOWS} times: every stream opens and ends with the final event`, { timeout: 400_000 }, async () => {
    const follows: Promise<{ status: number; events: string[] }>[] = [];
    for (let i = 0; i < FOLLOWS; i++) {
      const r = await client.submitRun({ workload_id: workloadId, system_label: i % 2 ? 'c2c' : 'pcie', ...RUN });
      follows.push(followToEnd(`${stack.aggregatorUrl}/runs/${r.run_id}/events`));
    }
    const outcomes = await Promise.all(follows);
    assert.deepEqual(outcomes.map((o) => o.status), Array(FOLLOWS).fill(200), 'every stream opened');
    assert.deepEqual(outcomes.map((o) => o.events.at(-1)), Array(FOLLOWS).fill('completed'), 'every stream ended with the run completing');
    assert.ok(outcomes.every((o) => o.events[0] === 'state'));
  });

  test('an id nobody accepted still gets 404 once the bound passed', async () => {
    const res = await fetch(`${stack.aggregatorUrl}/runs/run-zzzzzzzz-0000000000/events`, { headers: auth });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: string }).error, 'NOT_FOUND');
  });

  test('GET /agents lists both agents with their labels, hardware and state', async () => {
    const { agents } = await client.agents();
    assert.deepEqual(agents.map((a) => a.system_label).sort(), ['c2c', 'pcie']);
    for (const a of agents as unknown as Record<string, any>[]) {
      assert.ok(a.hostname && a.kvbench_version && a.engines.includes('sim'));
      assert.ok(Array.isArray(a.gpus) || a.gpus.available === false);
      assert.ok(['idle', 'running'].includes(a.state.kind));
    }
  });

  test('a run for a label no agent serves is queued with a warning; cancelling it keeps it from ever starting', async () => {
    const r = await client.submitRun({ workload_id: workloadId, system_label: 'gb200', config_module: 'config_c2c', ...RUN });
    assert.equal(r.agents_serving, 0);
    assert.match(r.warning ?? '', /no host agent serving system 'gb200'/);
    const res = await client.cancelRun(r.run_id);
    assert.equal(res.status, 'cancelled');
    const ev = await followToEnd(`${stack.aggregatorUrl}/runs/${r.run_id}/events`);
    assert.equal(ev.events.at(-1), 'cancelled');
    // An agent for the label arrives later: it takes the job, sees the run cancelled and drops it; nothing starts.
    await stack.startAgent('gb200');
    await waitFor(async () => (await client.agents()).agents.some((a) => a.system_label === 'gb200'), { timeoutMs: 120_000, what: 'gb200 agent' });
    await new Promise((r) => setTimeout(r, 3000));
    const status = (await (await fetch(`${stack.aggregatorUrl}/runs/${r.run_id}`, { headers: auth })).json()) as Record<string, any>;
    assert.equal(status.status, 'cancelled');
    assert.equal(status.attempts.every((a: { started_at: string | null }) => a.started_at === null), true, 'never started');
    assert.equal(enginesUnder(join(dir.path, 'agent-gb200')), 0);
  });

  test('cancelling a running run stops its engine; the run is cancelled and never in /results', { timeout: 120_000 }, async () => {
    // Long enough (tens of seconds at real time) that it is still running when the cancel comes.
    const big = await client.createWorkload({ params: { ...TINY, contexts: [8192], batches_per_context: 30, batch_sizes: [4], seed: 11 } });
    const r = await client.submitRun({
      workload_id: big.id, system_label: 'pcie', ...RUN,
      overrides: { gpu_kv_max_tokens: 16384, host_cache_gb: 1 }, max_seq_len: 16384, output_tokens: 64,
      engine: { kind: 'sim', options: { time_scale: 1 } },
    });
    await waitFor(
      async () => {
        const s = (await (await fetch(`${stack.aggregatorUrl}/runs/${r.run_id}`, { headers: auth })).json()) as { received_samples?: number };
        return (s.received_samples ?? 0) > 0;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the run to be running with samples' },
    );
    assert.ok(enginesUnder(join(dir.path, 'agent-pcie')) > 0, 'its engine runs');
    const res = await client.cancelRun(r.run_id);
    assert.equal(res.status, 'cancelling');
    const ev = await followToEnd(`${stack.aggregatorUrl}/runs/${r.run_id}/events`);
    assert.equal(ev.events.at(-1), 'cancelled');
    await waitFor(() => enginesUnder(join(dir.path, 'agent-pcie')) === 0, { timeoutMs: 60_000, what: 'the engine process to be gone' });
    const detail = (await (await fetch(`${stack.aggregatorUrl}/runs/${r.run_id}`, { headers: auth })).json()) as Record<string, any>;
    assert.equal(detail.status, 'cancelled');
    assert.ok(detail.received_samples > 0, 'samples already published are kept with the attempt');
    const results = ResultsDocument.parse(await client.results({ workload_id: big.id }));
    assert.deepEqual(Object.values(results.runs).flat(), []);
    assert.equal((await client.runStatus(r.run_id)).status, 'cancelled');
  });

  test('cancel: 401 without a token, 409 naming the state of a finished run, 404 for an unknown one', async () => {
    const done = await client.submitRun({ workload_id: workloadId, system_label: 'c2c', ...RUN });
    assert.equal((await followToEnd(`${stack.aggregatorUrl}/runs/${done.run_id}/events`)).events.at(-1), 'completed');
    await waitFor(async () => (await client.runStatus(done.run_id)).status === 'completed', { what: 'status completed' });
    const anon = await fetch(`${stack.apiUrl}/runs/${done.run_id}/cancel`, { method: 'POST' });
    assert.equal(anon.status, 401);
    await assert.rejects(client.cancelRun(done.run_id), (e: ApiError) => e.status === 409 && (e.body as { state: string }).state === 'completed');
    await assert.rejects(client.cancelRun('run-zzzzzzzz-0000000001'), (e: ApiError) => e.status === 404);
  });

  test('kvbench bench --api --token completes a run against services that require tokens', { timeout: 120_000 }, async () => {
    const wl = join(dir.path, 'w.json');
    const out = join(dir.path, 'results.json');
    execFileSync(process.execPath, [CLI, 'workload', 'generate', '--contexts', '512', '--batches-per-context', '1', '--batch-sizes', '2', '--prompt-pool-size', '1', '--reuse-start-batch', '1', '--seed', '5', '--out', wl]);
    const args = [CLI, 'bench', '--api', stack.apiUrl, '--aggregator', stack.aggregatorUrl, '--model', RUN.model, '--system_label', 'pcie',
      '--workload_json', wl, '--output_json', out, '--max_batch_size', '4', '--max_seq_len', '4096', '--output_tokens', '2',
      '--gpu_kv_max_tokens', '2048', '--host_cache_gb', '1'];
    const noToken = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KVBENCH_TOKEN: '' } });
    let err = '';
    noToken.stderr.on('data', (d) => (err += d));
    assert.notEqual(await new Promise((r) => noToken.on('exit', r)), 0);
    assert.match(err, /401/);
    for (const how of [['--token', TOKEN], []]) {
      const child = spawn(process.execPath, [...args, ...how], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KVBENCH_TOKEN: TOKEN } });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise((r) => child.on('exit', r));
      assert.equal(code, 0, stderr);
    }
    const doc = ResultsDocument.parse(JSON.parse(await readFile(out, 'utf8')));
    assert.equal(doc.runs.pcie?.length, 2, 'one run from --token, one from KVBENCH_TOKEN');
  });

  test('an agent killed with SIGKILL disappears from /agents after its TTL', { timeout: 180_000 }, async () => {
    const c2c = stack.processes.get('agent-c2c')!;
    c2c.kill('SIGKILL');
    await waitFor(async () => !(await client.agents()).agents.some((a) => a.system_label === 'c2c'), { timeoutMs: 150_000, intervalMs: 500, what: 'the killed agent to disappear' });
    assert.ok((await client.agents()).agents.some((a) => a.system_label === 'pcie'), 'the live one stays');
  });
});
