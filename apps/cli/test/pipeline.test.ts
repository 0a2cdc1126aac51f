// The whole pipeline on real parts: nats-server, workload-api, aggregator and two host
// agents as separate processes, each agent launching its own engine simulator.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ResultsDocument, consoleLogger } from '@kvbench/common';
import { tempDir, waitFor } from '@kvbench/testkit';
import { KvbenchClient, ApiError } from '../src/api-client.js';
import { startLocalStack, type LocalStack } from '../src/stack.js';
import { simRun } from './agent-faults.js';

const WORKLOAD = { contexts: [512, 1024], batches_per_context: 3, batch_sizes: [2, 3], prompt_pool_size: 2, reuse_start_batch: 1, delay_ms: 0, seed: 7 };
const RUN = simRun();

describe('pipeline: workload-api → NATS → host agents → aggregator', () => {
  let stack: LocalStack;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let client: KvbenchClient;

  before(async () => {
    dir = await tempDir('kvbench-pipeline-');
    stack = await startLocalStack({ dir: dir.path, systems: ['pcie', 'c2c'], log: consoleLogger('warn') });
    client = new KvbenchClient(stack.apiUrl, stack.aggregatorUrl);
  });
  after(async () => {
    await stack?.stop();
    await dir?.cleanup();
  });

  test('both systems run the same workload; every request appears exactly once', { timeout: 240_000 }, async () => {
    const wl = await client.createWorkload({ params: WORKLOAD });
    const full = (await (await fetch(`${stack.apiUrl}/workloads/${wl.id}?full=true`)).json()) as {
      document: { batches: { requests: { request_id: string }[] }[] };
    };
    const expectedIds = full.document.batches.flatMap((b) => b.requests.map((r) => r.request_id)).sort();
    assert.equal(expectedIds.length, wl.requests);

    const runs = await Promise.all(
      ['pcie', 'c2c'].map((system_label) => client.submitRun({ workload_id: wl.id, system_label, ...RUN })),
    );
    for (const r of runs) {
      await waitFor(
        async () => {
          const s = (await (await fetch(`${stack.aggregatorUrl}/runs/${r.run_id}`)).json().catch(() => ({}))) as { status?: string };
          if (s.status === 'failed') throw new Error(`run ${r.run_id} failed: ${JSON.stringify(s)}`);
          return s.status === 'completed';
        },
        { timeoutMs: 200_000, intervalMs: 500, what: `run ${r.run_id} to complete` },
      );
    }

    const doc = ResultsDocument.parse(await client.results({ workload_id: wl.id }));
    assert.deepEqual(Object.keys(doc.runs).sort(), ['c2c', 'pcie']);
    for (const label of ['pcie', 'c2c']) {
      const [run] = doc.runs[label]!;
      assert.ok(run, `${label} has a run`);
      const ids = run.samples.map((s) => s.request_id).sort();
      assert.deepEqual(ids, expectedIds, `${label}: every request exactly once`);
      for (const s of run.samples) {
        assert.ok(s.ok, `${label} ${s.request_id} ok`);
        assert.ok(s.ttft_s! > 0 && s.ttft_s! < s.latency_s!, `${label} ${s.request_id}: 0 < TTFT ${s.ttft_s} < latency ${s.latency_s}`);
      }
      assert.equal(run.run_meta.simulated, true, 'simulated runs are labelled');
      assert.equal(run.run_meta.system_label, label);
      // Agents align their wall clock with the aggregator's. Same host, so the true offset is 0, and NTP's
      // bound holds whatever the load: the reply was read between t0 and t3, so |offset| ≤ rtt / 2.
      const clock = run.run_meta.clock_offset as { offset_ms: number; rtt_ms: number; reference: string };
      assert.equal(clock.reference, 'aggregator');
      assert.ok(Math.abs(clock.offset_ms) <= clock.rtt_ms / 2, JSON.stringify(clock));
      assert.ok(run.aggregate.ttft_p50_s! > 0);
    }
  });

  test('OpenAPI documents describe the routes', async () => {
    for (const [url, path] of [
      [stack.apiUrl, '/runs'],
      [stack.aggregatorUrl, '/results'],
    ] as const) {
      const res = await fetch(`${url}/openapi.json`);
      assert.equal(res.status, 200);
      const spec = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
      assert.match(spec.openapi, /^3\./);
      assert.ok(spec.paths[path], `${url} documents ${path}`);
    }
  });

  test('invalid bodies get 400 naming the field; unknown ids 404', async () => {
    await assert.rejects(
      client.submitRun({ workload_id: 'wl-nope', system_label: 'pcie', model: 'm', max_batch_size: -1 }),
      (err: unknown) => err instanceof ApiError && err.status === 400 && /max_batch_size/.test(JSON.stringify(err.body)),
    );
    await assert.rejects(
      client.createWorkload({ params: { contexts: ['x'] } as never }),
      (err: unknown) => err instanceof ApiError && err.status === 400 && /contexts/.test(JSON.stringify(err.body)),
    );
    await assert.rejects(
      client.submitRun({ workload_id: 'wl-doesnotexist', system_label: 'pcie', model: 'm' }),
      (err: unknown) => err instanceof ApiError && err.status === 404,
    );
  });
});
