/**
 * A simulator run through runBenchmark with the telemetry wrapper, as the host agent and
 * `kvbench bench` do: the simulator's modelled link series (GET /sim/link_series) sums to the
 * offloaded and onboarded bytes its own iteration statistics report, and everything is simulated.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunEvent, silentLogger, TelemetrySummary, type Job, type RunEvent as RunEventT } from '@kvbench/common';
import { SIM_MAIN_PATH, defaultProfileForSystem } from '@kvbench/engine-sim';
import { runBenchmark } from '@kvbench/runner';
import { runTelemetry } from '@kvbench/telemetry';
import { compareRuns, renderHtmlReport } from '@kvbench/report';
import { generateWorkload } from '@kvbench/workload';

const workload = generateWorkload({ contexts: [512], batches_per_context: 4, batch_sizes: [2, 4], prompt_pool_size: 3, reuse_start_batch: 2, seed: 7 });

function job(): Job {
  return {
    schema: 'kvbench.job', version: 1, run_id: `tel-${Math.random().toString(36).slice(2, 10)}`, workload_id: 'wl-test', system_label: 'pcie',
    model: 'meta-llama/Llama-3.1-8B-Instruct', engine: { kind: 'sim', options: {} }, config_module: 'config_pcie',
    // The GPU pool (1024 tokens = 16 blocks) is smaller than the working set: blocks go to host and come back.
    overrides: { gpu_kv_max_tokens: 1024, host_cache_gb: 1 }, max_batch_size: 4, max_seq_len: 4096, output_tokens: 4,
    temperature: 0, top_p: 1, notes: '', submitted_at: new Date().toISOString(),
  };
}

test('a simulator run: the link series sums to the engine-reported offloaded and onboarded bytes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kvbench-telemetry-'));
  const events: RunEventT[] = [];
  const telemetry = runTelemetry(async (e) => void events.push(e), { periodMs: 50 }, silentLogger);
  try {
    const j = job();
    const result = await runBenchmark({
      job: j, workload, attempt: 1, emit: telemetry.emit, log: silentLogger,
      agent: { workDir: dir, sim: { timeScale: 0.2 }, simulator: { mainPath: SIM_MAIN_PATH, defaultProfileForSystem }, collectEnvironment: false },
    });
    for (const e of events) RunEvent.parse(e);
    const m = result.log_metrics;
    assert.ok((m.offloaded_bytes ?? 0) > 0, `the workload offloads (offloaded_bytes ${m.offloaded_bytes}, ${m.null_reasons['offloaded_bytes']})`);
    assert.ok((m.onboarded_bytes ?? 0) > 0, 'and onboards on reuse');

    const tel = events.filter((e): e is Extract<RunEventT, { type: 'telemetry' }> => e.type === 'telemetry');
    const final = tel.filter((e) => e.final);
    assert.equal(final.length, 1, 'one final telemetry event');
    assert.ok(events.indexOf(final[0]!) < events.findIndex((e) => e.type === 'completed'), 'the summary goes out before completed');
    assert.deepEqual(tel.map((e) => e.chunk), tel.map((_, i) => i), 'chunks numbered from 0 in order');
    const points = tel.flatMap((e) => e.points);
    assert.ok(points.length > 1, 'a series, not one figure');
    const sum = (k: 'pcie_tx_bytes' | 'pcie_rx_bytes') => points.reduce((a, p) => a + (p[k] ?? 0), 0);
    assert.equal(sum('pcie_tx_bytes'), m.offloaded_bytes, 'modelled device→host bytes = engine offloaded_bytes');
    assert.equal(sum('pcie_rx_bytes'), m.onboarded_bytes, 'modelled host→device bytes = engine onboarded_bytes');
    // One point per period, periods back to back from the run's start.
    points.forEach((p, i) => assert.ok(Math.abs(p.t_s - (i + 1) * 0.05) < 1e-9 && p.dt_s === 0.05, `point ${i} at ${p.t_s}`));

    const s = TelemetrySummary.parse(final[0]!.summary);
    assert.deepEqual(s, telemetry.summary());
    assert.equal(s.source, 'sim');
    assert.equal(s.simulated, true);
    assert.match(s.source_detail, /^simulated:/);
    assert.equal(s.totals.pcie_tx_bytes, m.offloaded_bytes);
    assert.equal(s.link_level.offload_bytes, m.offloaded_bytes);
    assert.equal(s.versus_engine.offload_ratio, 1);
    assert.equal(s.versus_engine.onboard_ratio, 1);
    assert.deepEqual(s.versus_engine.disagreements, []);
    assert.ok(s.link_level.offload_gbps! > 0 && s.link_level.peak_offload_gbps! >= s.link_level.offload_gbps!);
    // The profiles have no power model: energy figures are null with their reason.
    assert.equal(s.energy_per_request_j, null);
    assert.match(s.null_reasons['energy_per_request_j']!, /no power model/);
    assert.equal(s.peak_mem_used_bytes, null);
    assert.match(s.null_reasons['peak_mem_used_bytes']!, /simulated/);
    assert.ok(Math.abs(s.period_ms_achieved! - 50) < 1e-6, `period ${s.period_ms_achieved}`);

    // The report draws the series under the request timeline, the link's bytes beside the engine's.
    const run = { ...result, telemetry: s, telemetry_series: points };
    const html = renderHtmlReport([run], compareRuns([run]));
    const section = html.slice(html.indexOf('<h2 id="link">'));
    assert.ok(section.length > 0 && html.includes('<h2 id="link">Link telemetry</h2>'));
    assert.match(section, /<path d="M[^"]+" fill="none" stroke="[^"]+" stroke-width="1.5" data-series="offload"\/>/);
    assert.match(section, /data-series="onboard"/);
    // One span per request: its prefill where the breakdown places it, else its whole TTFT (a real-time
    // run on a loaded host can leave a part null when the clock relation cannot place it; breakdown.ts).
    const placed = result.samples.filter((x) => { const b = x.breakdown; return !!b && b.client_wait_s !== null && b.to_engine_s !== null && b.engine_queue_s !== null && b.prefill_s != null; }).length;
    assert.equal((section.match(/data-span="prefill"/g) ?? []).length, placed, 'a prefill span for each request whose breakdown places it');
    assert.equal((section.match(/data-span="(prefill|ttft)"/g) ?? []).length, result.samples.length, 'one prefill or TTFT span per request');
    assert.ok(placed > 0, 'some requests are placed');
    assert.ok(section.includes('data-span="onboard"'), 'reuse requests show their onboard span');
    assert.match(section, /SIMULATED: the simulator/);
    assert.match(section, /data-ratio="offload"[^>]*>1\.000</);

  } finally {
    await telemetry.close();
    await rm(dir, { recursive: true, force: true });
  }
});
