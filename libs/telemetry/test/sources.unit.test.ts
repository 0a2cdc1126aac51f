/**
 * The sampler's sources against recorded outputs: the DCGM exporter's text (documented layout),
 * the NVML sidecar and nvidia-smi as recorded on the device (capture/h100-pcie-2026-12-06, h200-pcie-2026-12-06,
 * h100-pcie-2026-12-07 with its config space).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TelemetryPoint, type TelemetryPoint as Point } from '@kvbench/common';
import {
  analyzeCapture,
  convertNvmlLines,
  dcgmPlan,
  dcgmPoints,
  NvmlHello,
  openDcgmSource,
  parsePcieConfig,
  planFromHello,
  readDcgmScrape,
  SmiConverter,
  SmiCsv,
  summarize,
  unwrapCounter,
} from '@kvbench/telemetry';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test');
const CAPTURE = resolve(SRC, '..', 'capture', 'h100-pcie-2026-12-06');
// The H200's capture (2026-12-06) ran the sidecar as shipped now: PCIe counters read every 10 ms.
// The H100's of 2026-12-07 ran it too, and dumped the GPU's PCI config space (its Max_Payload_Size).
const CAPTURES = {
  H100: CAPTURE,
  H200: resolve(SRC, '..', 'capture', 'h200-pcie-2026-12-06'),
  'H100 (2026-12-07)': resolve(SRC, '..', 'capture', 'h100-pcie-2026-12-07'),
};
const fixture = (name: string) => readFileSync(join(SRC, 'fixtures', name), 'utf8');
const captured = (name: string) => readFileSync(join(CAPTURE, name), 'utf8');

test('DCGM exporter text: per-GPU series, rates integrated over the scrape interval, missing fields null with the reason', () => {
  const a = readDcgmScrape(fixture('dcgm-exporter-scrape-1.txt'));
  const b = readDcgmScrape(fixture('dcgm-exporter-scrape-2.txt'));
  assert.deepEqual([...a.gpus.keys()].sort(), [0, 1]);
  const plan = dcgmPlan(a);
  assert.deepEqual(plan.gpus.map((g) => g.name), ['NVIDIA H100 PCIe', 'NVIDIA GH200 480GB']);
  assert.match(plan.nullReasons.c2c_tx_bytes!, /gpu 0: the exporter has no DCGM_FI_PROF_C2C_TX_ALL_BYTES/);
  assert.doesNotMatch(plan.nullReasons.c2c_tx_bytes!, /gpu 1/);
  const pts = dcgmPoints(a, b, 2.0, 0.1);
  for (const p of pts) TelemetryPoint.parse(p);
  const [h100, gh200] = pts as [Point, Point];
  // (20 + 22) / 2 GB/s over 0.1 s, (40 + 38) / 2 GB/s over 0.1 s.
  assert.equal(h100.pcie_tx_bytes, 2.1e9);
  assert.equal(h100.pcie_rx_bytes, 3.9e9);
  assert.equal(h100.c2c_tx_bytes, null);
  assert.equal(gh200.c2c_tx_bytes, 3.1e10);
  assert.equal(gh200.c2c_rx_bytes, 9e9);
  // Energy from the counter (mJ), not power × time; memory MiB → bytes; gauges as read.
  assert.equal(h100.energy_j, 25.138);
  assert.equal(gh200.energy_j, 40.25);
  assert.equal(h100.mem_used_bytes, 61952 * 2 ** 20);
  assert.equal(h100.power_w, 251.375);
  assert.equal(h100.sm_clock_mhz, 1755);
  assert.equal(gh200.util_pct, 91);
  // The summary takes the C2C link as the offload path where it carried traffic.
  const s = summarize({ source: 'dcgm', detail: 'fixture', tried: [], simulated: false, gpus: plan.gpus, periodMs: 100, points: [gh200], nullReasons: {}, requests: 2, outputTokens: 10, logMetrics: null });
  assert.equal(s.link_level.link, 'c2c');
  assert.equal(s.link_level.offload_bytes, 3.1e10);
  assert.equal(s.energy_per_request_j, 20.125);
  assert.equal(s.energy_per_output_token_j, 4.025);
  assert.match(s.null_reasons['versus_engine.offload_ratio']!, /engine reported no offloaded bytes/);
});

test('DCGM exporter over real HTTP: the source scrapes every period and stops with a last scrape', async () => {
  const bodies = [fixture('dcgm-exporter-scrape-1.txt'), fixture('dcgm-exporter-scrape-2.txt')];
  let served = 0;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(bodies[Math.min(served++, 1)]);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    const src = await openDcgmSource({ url, periodMs: 20 });
    assert.equal(src.kind, 'dcgm');
    const got: Point[] = [];
    src.start((p) => got.push(...p), process.hrtime.bigint());
    while (got.length < 4) await new Promise((r) => setTimeout(r, 20));
    await src.stop();
    for (const p of got) TelemetryPoint.parse(p);
    assert.ok(got.every((p) => p.dt_s > 0 && p.pcie_tx_bytes !== null));
    assert.ok(got.filter((p) => p.gpu === 0).every((p) => p.c2c_tx_bytes === null));
  } finally {
    server.close();
  }
  await assert.rejects(openDcgmSource({ url: 'http://127.0.0.1:9/metrics', periodMs: 100, timeoutMs: 500 }), /DCGM exporter http:\/\/127\.0\.0\.1:9\/metrics/);
});

test('32-bit PCIe counters: wraps counted from the GPM estimate', () => {
  const M = 2 ** 32;
  assert.equal(unwrapCounter(100, 50, 32, null), M - 50);
  assert.equal(unwrapCounter(10, 20, 32, 5.5e9), 10 + M); // 5.5 GB in the interval: one wrap
  assert.equal(unwrapCounter(10, 20, 32, 9.0e9), 10 + 2 * M);
  assert.equal(unwrapCounter(10, 20, 32, 0), 10);
  assert.equal(unwrapCounter(10, 5, 64, null), null, 'a 64-bit counter going back is a reset, not a wrap');
});

for (const [gpu, dir] of Object.entries(CAPTURES)) {
const captured = (name: string) => readFileSync(join(dir, name), 'utf8');

test(`NVML sidecar as recorded on the ${gpu}: plan, null reasons, 100 ms series`, () => {
  const lines = captured('nvml-sidecar.jsonl').split('\n');
  const hello = NvmlHello.parse(JSON.parse(lines[0]!));
  assert.ok(hello.ok);
  const plan = planFromHello(hello);
  assert.equal(plan.pcie.get(0)!.method, 'counters');
  assert.equal(plan.pcie.get(0)!.bits, 32, `the ${gpu} reports 197/198 as unsigned int`);
  if (gpu !== 'H100') assert.equal(hello.gpus[0]!.caps.pcie_counters.accumulated_every_ms, 10, 'read every 10 ms: each delta under one wrap');
  assert.match(plan.nullReasons.c2c_tx_bytes!, /no NVLink-C2C here \(NVML_FI_DEV_C2C_LINK_COUNT: Not Supported\)/);
  assert.equal(plan.nullReasons.power_w, undefined);
  const { points } = convertNvmlLines(lines);
  for (const p of points) TelemetryPoint.parse(p);
  assert.ok(points.every((p) => p.power_w! > 50 && p.energy_j! >= 0 && p.mem_used_bytes! > 0 && p.sm_clock_mhz! > 0));
  // One point per 100 ms period; the last is the reading taken when the sidecar was stopped.
  const periods = points.slice(0, -1);
  assert.ok(periods.every((p) => Math.abs(p.dt_s - 0.1) < 0.01 && p.energy_j! > 0), 'one point per 100 ms period, energy counted in each');
  assert.ok(points.at(-1)!.dt_s < 0.1);
});

test(`the ${gpu} capture: counted link bytes against the bytes copied, phase by phase`, () => {
  const phases = JSON.parse(captured('phases.json'));
  const lines = captured('nvml-sidecar.jsonl').split('\n');
  const a = analyzeCapture(phases, lines);
  assert.equal(a.method, 'counters');
  assert.equal(a.phases.length, 4);
  for (const p of a.phases) {
    // The counter counts whole TLPs (headers, framing): never fewer bytes than the payload, and
    // within the framing of 256-byte payloads (≤ 24 B each, 9.4 %).
    assert.ok(p.ratio >= 1 && p.ratio <= 1 + 24 / 256 + 1e-3, `${p.direction} ratio ${p.ratio}`);
  }
  // The same copy counted twice gives the same bytes (a counter, not a sampled rate): to 5e-6 on the
  // H100, 2.7e-4 on the H200's host→GPU phases (7.6 MB of other traffic in 27.8 GB; GPM's spread is 7 %).
  const [h1, d1, h2, d2] = a.phases as [typeof a.phases[0], typeof a.phases[0], typeof a.phases[0], typeof a.phases[0]];
  assert.ok(Math.abs(h1.counted_bytes / h2.counted_bytes - 1) < 1e-3);
  assert.ok(Math.abs(d1.counted_bytes / d2.counted_bytes - 1) < 1e-3);
  assert.ok(Math.abs(a.period_ms_achieved.median - 100) < 1);
  assert.equal(a.overhead.length, 4);
  // Over the whole capture (idle gaps included) the onboard direction still counts each copied byte
  // once plus its framing: no wrap miscounted at a transfer's edge.
  const { points } = convertNvmlLines(lines);
  const rx = points.reduce((s, p) => s + p.pcie_rx_bytes!, 0);
  const copiedH2d = a.phases.filter((p) => p.direction === 'h2d').reduce((s, p) => s + p.copied_bytes, 0);
  assert.ok(Math.abs((rx * 256) / 276 / copiedH2d - 1) < 0.005, `whole-capture rx ${rx} for ${copiedH2d} copied`);
  // GPM alone: rates averaged by the driver, further from the copy and less repeatable.
  const g = analyzeCapture(phases, lines, ['gpm']);
  assert.equal(g.method, 'gpm');
  const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  assert.ok(spread(g.phases.map((p) => p.ratio)) > spread(a.phases.map((p) => p.ratio)));
  // Without the machine's config space the payload inside the counted bytes is not estimated.
  if (!existsSync(join(dir, 'pcie-config.bin'))) assert.ok(a.phases.every((p) => p.payload_ratio === null && /Max_Payload_Size unknown/.test(p.payload_null_reason!)));
});
}

test("the 2026-12-07 capture: the payload inside the counted bytes, with that machine's own Max_Payload_Size, is the bytes copied", () => {
  const dir = CAPTURES['H100 (2026-12-07)'];
  const framing = parsePcieConfig(readFileSync(join(dir, 'pcie-config.bin')), '0000:00:06.0', 'capture');
  // pcie-config.txt: read as root (uid 0), all 4096 bytes, at the GPU's address.
  assert.match(readFileSync(join(dir, 'pcie-config.txt'), 'utf8'), /^uid 0\nbdf 0000:00:06\.0\n.*4096 .*\/config$/ms);
  assert.ok(framing.ok, JSON.stringify(framing));
  assert.equal(framing.framing.max_payload_bytes, 256);
  const a = analyzeCapture(JSON.parse(readFileSync(join(dir, 'phases.json'), 'utf8')), readFileSync(join(dir, 'nvml-sidecar.jsonl'), 'utf8').split('\n'), undefined, framing);
  assert.equal(a.framing?.max_payload_bytes, 256);
  assert.equal(a.phases.length, 4);
  for (const p of a.phases) {
    // Counted: 7.8 % / 9.4 % above the copy (headers). The estimate: within 10⁻³ of it (measured 6–7 × 10⁻⁵),
    // and the other direction, where no data moved, under 10⁻³ of the copy (its read requests taken off).
    assert.ok(p.ratio > 1.07, `${p.direction} counted / copied ${p.ratio}`);
    assert.ok(Math.abs(p.payload_ratio! - 1) < 1e-3, `${p.direction} payload / copied ${p.payload_ratio}`);
    assert.ok(p.other_direction_payload_bytes! / p.copied_bytes < 1e-3, `${p.direction} other direction's payload ${p.other_direction_payload_bytes}`);
  }
});

test('nvidia-smi as recorded: header-named columns, energy = power × period, no link bytes', () => {
  const csv = new SmiCsv();
  const rows = captured('nvidia-smi-query.csv').split('\n').map((l) => csv.line(l)).filter((r) => r !== null);
  assert.ok(rows.length > 50);
  assert.deepEqual(rows[0], { index: 0, uuid: 'GPU-fd4a05b2-1abc-5b77-229b-0d1869d480e4', name: null, util_pct: 100, sm_clock_mhz: 1980, power_w: 133.04, mem_used_bytes: 1625 * 2 ** 20 });
  const conv = new SmiConverter(0n);
  assert.equal(conv.push(rows[0]!, 1_000_000_000n), null, 'the first row opens the first period');
  const p = conv.push(rows[1]!, 1_100_000_000n)!;
  TelemetryPoint.parse(p);
  assert.equal(p.pcie_tx_bytes, null);
  assert.ok(Math.abs(p.energy_j! - rows[1]!.power_w! * 0.1) < 1e-9);
});
