// coarsenTelemetry: a long series merged for results files and report pages keeps its totals exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TelemetryPoint, coarsenTelemetry, telemetryCsv, TELEMETRY_COLUMNS } from '@kvbench/common';

const point = (gpu: number, i: number): TelemetryPoint => ({
  gpu, t_s: (i + 1) * 0.1, dt_s: 0.1,
  pcie_tx_bytes: i * 3, pcie_rx_bytes: i % 7, c2c_tx_bytes: null, c2c_rx_bytes: null,
  util_pct: i % 100, sm_clock_mhz: 1980, power_w: 100 + (i % 50), energy_j: 10 + (i % 50), mem_used_bytes: 1e9 + i,
});

test('a short series comes back as it is', () => {
  const pts = Array.from({ length: 50 }, (_, i) => point(0, i));
  assert.deepEqual(coarsenTelemetry(pts, 100), pts);
});

test('a long series: at most maxPerGpu points per GPU, sums exact, gauges the reading at each merged end, nulls kept', () => {
  const pts = [...Array.from({ length: 1001 }, (_, i) => point(0, i)), ...Array.from({ length: 1001 }, (_, i) => point(1, i))];
  const out = coarsenTelemetry(pts, 100);
  for (const gpu of [0, 1]) {
    const mine = out.filter((p) => p.gpu === gpu);
    const all = pts.filter((p) => p.gpu === gpu);
    assert.ok(mine.length <= 100 && mine.length >= 50, `${mine.length} points`);
    for (const k of ['pcie_tx_bytes', 'pcie_rx_bytes', 'energy_j', 'dt_s'] as const) {
      const total = (xs: TelemetryPoint[]) => xs.reduce((a, p) => a + (p[k] ?? 0), 0);
      assert.ok(Math.abs(total(mine) - total(all)) < 1e-6 * Math.max(1, total(all)), `${k}`);
    }
    assert.equal(mine.at(-1)!.t_s, all.at(-1)!.t_s, 'the last merged period ends where the series ends');
    assert.equal(mine.at(-1)!.mem_used_bytes, all.at(-1)!.mem_used_bytes);
    assert.ok(mine.every((p) => p.c2c_tx_bytes === null), 'a counter the source lacks stays null');
    for (const p of mine) TelemetryPoint.parse(p);
  }
  // Merged periods tile the run: each starts where the one before ended.
  const g0 = out.filter((p) => p.gpu === 0);
  for (let i = 1; i < g0.length; i++) assert.ok(Math.abs(g0[i]!.t_s - g0[i]!.dt_s - g0[i - 1]!.t_s) < 1e-9);
});

test('telemetryCsv: the header is TELEMETRY_COLUMNS, a null an empty cell', () => {
  const lines = telemetryCsv([point(0, 2)]).trimEnd().split('\n');
  assert.equal(lines[0], TELEMETRY_COLUMNS.join(','));
  assert.equal(lines[1]!.split(',').length, TELEMETRY_COLUMNS.length);
  assert.equal(lines[1]!.split(',')[TELEMETRY_COLUMNS.indexOf('c2c_tx_bytes')], '');
});
