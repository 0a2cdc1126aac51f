/**
 * The PCIe framing behind the counters: Max_Payload_Size read from a config space (synthetic dumps
 * laid out as the PCI spec and Linux's sysfs give them), the payload model, and how the run summary
 * and the sampler use it. The model against real copies is in sources.unit.test.ts (the H200 capture).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TelemetryPoint } from '@kvbench/common';
import { tempDir } from '@kvbench/testkit';
import { emptyPoint, openTelemetry, parsePcieConfig, payloadFromCounted, readPcieFraming, summarize, sysfsBusId, type SummaryInput } from '@kvbench/telemetry';

/** A 256-byte config space: capability list → power management at 0x40 → PCI Express at 0x60. */
function configSpace(o: { mpsCode: number; mrrsCode: number; supportedCode: number; length?: number; capList?: boolean }): Buffer {
  const b = Buffer.alloc(256);
  b.writeUInt16LE(0x10de, 0x00); // NVIDIA
  b.writeUInt16LE(o.capList === false ? 0 : 0x10, 0x06); // status: capabilities list
  b.writeUInt8(0x40, 0x34);
  b.writeUInt8(0x01, 0x40); // power management
  b.writeUInt8(0x60, 0x41);
  b.writeUInt8(0x10, 0x60); // PCI Express
  b.writeUInt8(0x00, 0x61);
  b.writeUInt32LE(0x8000 | o.supportedCode, 0x64); // Device Capabilities
  b.writeUInt16LE((o.mrrsCode << 12) | (o.mpsCode << 5) | 0x0f, 0x68); // Device Control (+ error reporting bits)
  return b.subarray(0, o.length ?? 256);
}

test('Max_Payload_Size and Max_Read_Request_Size from the PCI Express capability', () => {
  const r = parsePcieConfig(configSpace({ mpsCode: 1, mrrsCode: 2, supportedCode: 2 }), '0000:00:06.0', 'test');
  assert.deepEqual(r, { ok: true, framing: { bus_id: '0000:00:06.0', max_payload_bytes: 256, max_read_request_bytes: 512, max_payload_supported_bytes: 512, source: 'test' } });
  const r128 = parsePcieConfig(configSpace({ mpsCode: 0, mrrsCode: 5, supportedCode: 1 }), 'x', 'test');
  assert.ok(r128.ok && r128.framing.max_payload_bytes === 128 && r128.framing.max_read_request_bytes === 4096);
});

test('a config space that cannot say: the reason, never a guessed payload size', () => {
  const short = parsePcieConfig(configSpace({ mpsCode: 1, mrrsCode: 2, supportedCode: 2, length: 64 }), '0000:00:06.0', 'test');
  assert.ok(!short.ok && /64 bytes readable.*needs root/.test(short.reason), JSON.stringify(short));
  const none = parsePcieConfig(configSpace({ mpsCode: 1, mrrsCode: 2, supportedCode: 2, capList: false }), 'x', 'test');
  assert.ok(!none.ok && /no capability list/.test(none.reason));
  const tiny = parsePcieConfig(Buffer.alloc(16), 'x', 'test');
  assert.ok(!tiny.ok);
});

test('bus ids as NVML and DCGM give them, as sysfs names them', () => {
  assert.equal(sysfsBusId('00000000:00:06.0'), '0000:00:06.0');
  assert.equal(sysfsBusId('00000009:01:00.0'), '0009:01:00.0');
  assert.equal(sysfsBusId('0000:1A:00.0'), '0000:1a:00.0');
  assert.equal(sysfsBusId('19:00.0'), '0000:19:00.0');
});

test('readPcieFraming reads <devices>/<bus id>/config, and says when the device is not there', async () => {
  const dir = await tempDir('kvbench-sysfs-');
  try {
    await mkdir(join(dir.path, '0000:00:06.0'));
    await writeFile(join(dir.path, '0000:00:06.0', 'config'), configSpace({ mpsCode: 1, mrrsCode: 2, supportedCode: 2 }));
    const r = await readPcieFraming('00000000:00:06.0', dir.path);
    assert.ok(r.ok && r.framing.max_payload_bytes === 256 && r.framing.source.endsWith('0000:00:06.0/config'));
    const missing = await readPcieFraming('00000000:00:07.0', dir.path);
    assert.ok(!missing.ok && /no PCI device 0000:00:07\.0 on this host/.test(missing.reason));
  } finally {
    await dir.cleanup();
  }
});

test('the payload model: copies of N bytes framed as TLPs come back as N, and nothing the other way', () => {
  const N = 25_769_803_776;
  const tlps = N / 256;
  // host → device: completions (20 B each) received, one read request (24 B) sent per completion.
  const h2d = payloadFromCounted(tlps * 24, tlps * (256 + 20), 256);
  assert.ok(Math.abs(h2d.onboard_bytes / N - 1) < 1e-12 && Math.abs(h2d.offload_bytes) < 1, JSON.stringify(h2d));
  // device → host: 64-bit writes (24 B each) sent.
  const d2h = payloadFromCounted(tlps * (256 + 24), 0, 256);
  assert.ok(Math.abs(d2h.offload_bytes / N - 1) < 1e-12 && d2h.onboard_bytes === 0);
  // A 128-byte payload size frames more: the same copy counts more bytes, the same payload comes back.
  const small = payloadFromCounted((N / 128) * (128 + 24), 0, 128);
  assert.ok(Math.abs(small.offload_bytes / N - 1) < 1e-12);
});

function input(over: Partial<SummaryInput>): SummaryInput {
  const points: TelemetryPoint[] = [0, 1, 2].map((k) => ({ ...emptyPoint(0, 0.1 * (k + 1), 0.1), pcie_tx_bytes: 2_800_000_000, pcie_rx_bytes: 0, energy_j: 40 }));
  return {
    source: 'dcgm',
    detail: 'test',
    tried: [],
    simulated: false,
    gpus: [{ index: 0, name: 'NVIDIA H200', uuid: null, pci_bus_id: '00000000:00:06.0', pcie_framing: { bus_id: '0000:00:06.0', max_payload_bytes: 256, max_read_request_bytes: 512, max_payload_supported_bytes: 512, source: 'test' } }],
    periodMs: 100,
    points,
    nullReasons: {},
    requests: 3,
    outputTokens: 30,
    // The engine offloaded what the writes carried: 3 × 2.8e9 × 256/280.
    logMetrics: { offloaded_bytes: 7_680_000_000, onboarded_bytes: null } as unknown as SummaryInput['logMetrics'],
    ...over,
  };
}

test("the summary sets the engine's bytes against the link's payload, not its headers", () => {
  const s = summarize(input({}));
  assert.equal(s.link_level.offload_bytes, 8_400_000_000);
  assert.ok(s.link_level.payload && Math.abs(s.link_level.payload.offload_bytes - 7_680_000_000) < 1);
  assert.deepEqual(s.link_level.payload.max_payload_bytes, [256]);
  assert.equal(s.versus_engine.basis, 'payload');
  assert.ok(Math.abs(s.versus_engine.offload_ratio! - 1) < 1e-9);
  assert.deepEqual(s.versus_engine.disagreements, []);
  // Without the framing the counted bytes are all there is: 9.4 % above the engine's, and said so.
  const raw = summarize(input({ gpus: [{ index: 0, name: null, uuid: null, pcie_framing: null, pcie_framing_null_reason: 'config space of 0000:00:06.0: 64 bytes readable, its capabilities lie beyond (reading all of it needs root)' }] }));
  assert.equal(raw.link_level.payload, null);
  assert.match(raw.null_reasons['link_level.payload']!, /Max_Payload_Size: gpu 0: .*needs root/);
  assert.equal(raw.versus_engine.basis, 'counted');
  assert.ok(Math.abs(raw.versus_engine.offload_ratio! - 1.09375) < 1e-9);
  const sim = summarize(input({ simulated: true, source: 'sim' }));
  assert.equal(sim.link_level.payload, null);
  assert.match(sim.null_reasons['link_level.payload']!, /simulator's series counts the KV payload only/);
});

test('the sampler reads each GPU framing from sysfs once its source opens (DCGM exporter over HTTP)', async () => {
  const fixture = (n: number) => readFileSync(fileURLToPath(new URL(`../../test/fixtures/dcgm-exporter-scrape-${n}.txt`, import.meta.url)), 'utf8');
  const bodies = [fixture(1), fixture(2)];
  let served = 0;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(bodies[Math.min(served++, 1)]);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = await tempDir('kvbench-sysfs-');
  try {
    // The fixture's GPUs: 00000000:19:00.0 (H100 PCIe, readable) and 00000009:01:00.0 (GH200: its config not there).
    await mkdir(join(dir.path, '0000:19:00.0'));
    await writeFile(join(dir.path, '0000:19:00.0', 'config'), configSpace({ mpsCode: 1, mrrsCode: 2, supportedCode: 2 }));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    const opened = await openTelemetry({ simulated: false, engineUrl: null }, { dcgmUrl: url, periodMs: 50, pciDevicesDir: dir.path });
    assert.equal(opened.source?.kind, 'dcgm');
    const [h100, gh200] = opened.source!.gpus;
    assert.equal(h100!.pcie_framing?.max_payload_bytes, 256);
    assert.equal(gh200!.pcie_framing, null);
    assert.match(gh200!.pcie_framing_null_reason!, /no PCI device 0009:01:00\.0 on this host/);
    await opened.source!.stop();
  } finally {
    server.close();
    await dir.cleanup();
  }
});

test("achieved bandwidth on the payload: a host→device copy's read requests are not offload periods", () => {
  // 10 periods of 0.1 s copying host→device at 55 GB/s of payload (completions in, read requests out),
  // then 10 copying device→host at 55 GB/s (writes out).
  const rate = 5.5e9; // payload bytes per 0.1 s period
  const tlps = rate / 256;
  const points: TelemetryPoint[] = [];
  for (let k = 0; k < 20; k++) {
    const h2d = k < 10;
    points.push({ ...emptyPoint(0, 0.1 * (k + 1), 0.1), pcie_rx_bytes: h2d ? tlps * 276 : 0, pcie_tx_bytes: h2d ? tlps * 24 : tlps * 280 });
  }
  const s = summarize(input({ points, logMetrics: null }));
  // Counted: the read requests (9.4% of the onboard rate) pass the 5% busy bar and halve the offload figure.
  assert.ok(s.link_level.offload_gbps! < 40, `counted ${s.link_level.offload_gbps}`);
  assert.ok(Math.abs(s.link_level.payload!.offload_gbps! - 55) < 1e-6, `payload ${s.link_level.payload!.offload_gbps}`);
  assert.ok(Math.abs(s.link_level.payload!.onboard_gbps! - 55) < 1e-6, `payload ${s.link_level.payload!.onboard_gbps}`);
});

test('the payload totals are the sums of the payload series: a period sending less than its read requests takes nothing off another period', () => {
  // Period 1 copies host→device, its read requests 1 MB short of the model's (the counter's window
  // cut them); period 2 copies device→host. Netted over the run, period 1's shortfall came off period
  // 2's writes; period by period, period 1 simply offloaded nothing.
  const tlps = 1e7;
  const points: TelemetryPoint[] = [
    { ...emptyPoint(0, 0.1, 0.1), pcie_rx_bytes: tlps * 276, pcie_tx_bytes: tlps * 24 - 1e6 },
    { ...emptyPoint(0, 0.2, 0.1), pcie_rx_bytes: 0, pcie_tx_bytes: tlps * 280 },
  ];
  const s = summarize(input({ points, logMetrics: null }));
  assert.equal(s.link_level.payload!.offload_bytes, payloadFromCounted(tlps * 280, 0, 256).offload_bytes);
  assert.equal(s.link_level.payload!.offload_bytes, tlps * 256);
  assert.equal(s.link_level.payload!.onboard_bytes, tlps * 256);
});
