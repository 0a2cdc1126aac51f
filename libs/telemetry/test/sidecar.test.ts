/**
 * The NVML sidecar itself (python/nvml_sidecar.py) through the sampler's NVML source, on a stand-in
 * pynvml (test/fixtures/fake-nvml) since no NVIDIA driver runs here. Readings 1.5 s apart at 4 GB/s:
 * more than a 32-bit wrap between readings, so only the sidecar's frequent counter reads count it right.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TelemetryPoint, type TelemetryPoint as Point } from '@kvbench/common';
import { openNvmlSource, TelemetryUnavailable } from '@kvbench/telemetry';

const FAKE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'fake-nvml');
const python = spawnSync('python3', ['--version']).status === 0;

test('sidecar: PCIe counters accumulated between readings, so 32-bit wraps never lose bytes', { skip: !python && 'no python3 here', timeout: 60_000 }, async () => {
  const rate = 4e9;
  const src = await openNvmlSource({ periodMs: 1500, counterMs: 10, env: { ...process.env, PYTHONPATH: FAKE, FAKE_RX_BPS: String(rate) } });
  assert.equal(src.kind, 'nvml');
  assert.match(src.detail, /PCIe counters/);
  assert.match(src.nullReasons.c2c_tx_bytes!, /Not Supported/);
  const got: Point[] = [];
  src.start((p) => got.push(...p), process.hrtime.bigint() - 10_000_000_000n);
  while (got.length < 3) await new Promise((r) => setTimeout(r, 100));
  await src.stop();
  for (const p of got) TelemetryPoint.parse(p);
  const full = got.slice(0, -1); // the last point is the short one taken at stop
  for (const p of full) {
    assert.ok(p.pcie_rx_bytes! > 2 ** 32, `more than one wrap in the period (${p.pcie_rx_bytes})`);
    // The model counts rate × time on the monotonic clock the sidecar stamps its readings with.
    assert.ok(Math.abs(p.pcie_rx_bytes! / (rate * p.dt_s) - 1) < 0.01, `rx ${p.pcie_rx_bytes} over ${p.dt_s} s`);
    assert.ok(Math.abs(p.pcie_tx_bytes! / ((rate / 10) * p.dt_s) - 1) < 0.01);
    // Energy as the counters: within 1% of 200 W × the period. (It was within 0.5 J, 0.17%: 2.5 ms of
    // the gap between the fake's energy read and the sidecar's timestamp, which a busy machine exceeded once.)
    assert.ok(Math.abs(p.energy_j! / (200 * p.dt_s) - 1) < 0.01, `energy ${p.energy_j} J over ${p.dt_s} s`);
  }
});

test('sidecar without nvidia-ml-py: unavailable, with the reason', { skip: !python && 'no python3 here' }, async () => {
  await assert.rejects(openNvmlSource({ periodMs: 100, env: { ...process.env, PYTHONPATH: '/nonexistent' }, python: 'python3' }), (e: unknown) => e instanceof TelemetryUnavailable && /cannot import pynvml|nvmlInit failed/.test((e as Error).message));
});
