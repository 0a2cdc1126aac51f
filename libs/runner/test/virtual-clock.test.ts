/**
 * The simulator on the virtual clock through the whole runner (runBenchmark, the simulator spawned
 * as a process, real HTTP and SSE): every sample's times are the simulator's modelled times, the
 * same seed gives the same samples, aggregate and statistics byte for byte, and completion-released
 * turns (a scenario workload) keep the lockstep: a turn never arrives before its predecessor ended.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunResult, ScenarioWorkload, type RunResult as RunResultT } from '@kvbench/common';
import { runBenchmark } from '@kvbench/runner';
import { generateWorkload } from '@kvbench/workload';
import { collector, makeJob, testSimulator } from './helpers.js';

const workload = generateWorkload({ contexts: [512, 1024], batches_per_context: 3, batch_sizes: [2, 4], prompt_pool_size: 3, reuse_start_batch: 1, seed: 11 });

async function virtualRun(wl: Parameters<typeof runBenchmark>[0]['workload'], over: Parameters<typeof makeJob>[0] = {}): Promise<RunResultT> {
  const c = collector();
  return runBenchmark({
    job: makeJob({ engine: { kind: 'sim', options: { clock: 'virtual', seed: 5, profile: 'h200-pcie-gen5' } }, overrides: { gpu_kv_max_tokens: 2048, host_cache_gb: 1 }, max_seq_len: 2048, ...over }),
    workload: wl,
    attempt: 1,
    emit: c.emit,
    log: c.log,
    agent: { simulator: testSimulator, collectEnvironment: false, kvbenchVersion: 'test', gitCommit: 'test', statsIntervalMs: 100 },
  });
}

/** What a run measured (not when or where it ran: ids, dates, ports and paths; the results file moves those to its provenance file, apps/cli/test/virtual-results-file.test.ts). */
const measured = (r: RunResultT) => JSON.stringify({ aggregate: r.aggregate, samples: r.samples, log_metrics: r.log_metrics });

test('virtual clock: modelled times, identical results for the same seed, breakdown parts exact', async () => {
  const a = await virtualRun(workload);
  const b = await virtualRun(workload);
  RunResult.parse(a);
  const meta = a.run_meta as Record<string, unknown>;
  assert.equal(meta['clock'], 'virtual');
  assert.equal(meta['host_bound'], false);
  assert.equal(meta['time_scale'], 1);
  assert.equal(measured(a), measured(b), 'same seed, same workload: byte-identical samples, aggregate and statistics');
  for (const s of a.samples) {
    assert.ok(s.ok, `${s.request_id}: ${s.error}`);
    const bd = s.breakdown!;
    // Nothing outside the model takes time on the virtual clock, and the parts add up exactly.
    // (to the virtual clock's nanosecond)
    assert.ok(Math.abs(bd.to_engine_s!) < 1e-8, `${s.request_id} to_engine_s ${bd.to_engine_s}`);
    assert.ok(Math.abs(bd.to_client_s!) < 1e-8, `${s.request_id} to_client_s ${bd.to_client_s}`);
    for (const k of ['client_wait_s', 'engine_queue_s', 'first_token_s'] as const) assert.ok(bd[k]! >= 0, `${s.request_id} ${k} = ${bd[k]}`);
    const sum = bd.client_wait_s! + bd.engine_queue_s! + bd.first_token_s!;
    // Exact to the virtual clock's nanosecond.
    assert.ok(Math.abs(sum - s.ttft_s!) < 1e-8, `${s.request_id}: parts ${sum} vs ttft ${s.ttft_s}`);
    assert.ok(s.ttft_s! > 0 && s.latency_s! > s.ttft_s!);
    // Sample times are the engine's modelled ones: first token and end as /perf_metrics reports them.
    assert.ok(Math.abs(s.server!.server_ttft_s! + bd.client_wait_s! - s.ttft_s!) < 1e-8);
  }
  // Batches are released when the whole previous batch has completed (modelled end), never before.
  const byBatch = new Map<number, typeof a.samples>();
  for (const s of a.samples) byBatch.set(s.batch_index, [...(byBatch.get(s.batch_index) ?? []), s]);
  for (let i = 1; byBatch.has(i); i++) {
    const prevEnd = Math.max(...byBatch.get(i - 1)!.map((s) => s.scheduled_at_s + s.latency_s!));
    for (const s of byBatch.get(i)!) assert.ok(Math.abs(s.scheduled_at_s - prevEnd) < 1e-9, `batch ${i} released at ${s.scheduled_at_s}, previous ended ${prevEnd}`);
  }
});

test('virtual clock: completion-released turns arrive at the previous turn\'s modelled end plus the delay', async () => {
  const tags = { kind: 'multiturn' as const };
  const wl: ScenarioWorkload = ScenarioWorkload.parse({
    schema: 'kvbench.workload',
    version: 2,
    kind: 'multiturn',
    tokenizer: 'token-ids',
    token_space: { seed: 3, low: 1000, high: 30000 },
    params: {},
    max_concurrency: 2,
    segments: [{ id: 'sa', tokens: 512 }, { id: 'sa2', tokens: 128 }, { id: 'sb', tokens: 512 }, { id: 'sb2', tokens: 128 }],
    prompts: [
      { id: 'a1', tokens: 512, segments: [{ segment: 'sa' }] },
      { id: 'a2', tokens: 640, prefix: 'a1', segments: [{ segment: 'sa2' }] },
      { id: 'b1', tokens: 512, segments: [{ segment: 'sb' }] },
      { id: 'b2', tokens: 640, prefix: 'b1', segments: [{ segment: 'sb2' }] },
    ],
    requests: [
      { request_id: 'a-0', prompt_id: 'a1', phase: 'cold', release: { type: 'at', at_ms: 0 }, tags },
      { request_id: 'b-0', prompt_id: 'b1', phase: 'cold', release: { type: 'at', at_ms: 3 }, tags },
      { request_id: 'a-1', prompt_id: 'a2', phase: 'reuse', release: { type: 'after', request_id: 'a-0', delay_ms: 0 }, tags },
      { request_id: 'b-1', prompt_id: 'b2', phase: 'reuse', release: { type: 'after', request_id: 'b-0', delay_ms: 250 }, tags },
    ],
  });
  const r = await virtualRun(wl);
  const by = new Map(r.samples.map((s) => [s.request_id, s]));
  for (const s of r.samples) assert.ok(s.ok, `${s.request_id}: ${s.error}`);
  const end = (id: string) => by.get(id)!.scheduled_at_s + by.get(id)!.latency_s!;
  assert.equal(by.get('b-0')!.scheduled_at_s, 0.003);
  assert.ok(Math.abs(by.get('a-1')!.scheduled_at_s - end('a-0')) < 1e-9);
  assert.ok(Math.abs(by.get('b-1')!.scheduled_at_s - (end('b-0') + 0.25)) < 1e-9);
  // The turn's prefix is on the GPU: it is served from cache.
  assert.ok((by.get('a-1')!.cached_tokens ?? 0) >= 448);
});
