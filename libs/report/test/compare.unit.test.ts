import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotFoundError, ValidationError, type ResultsDocument } from '@kvbench/common';
import { compareRuns, renderComparisonTable, selectRuns } from '@kvbench/report';
import { run, sample, syntheticPair } from './fixtures.js';

test('rows per context and phase plus one all row; run-level figures on the all row only', () => {
  const [a, b] = syntheticPair({ n: 60, ratio: 0.5, seed: 'rows', contexts: [65536, 8192] });
  const c = compareRuns([b, a]);
  assert.deepEqual(
    c.rows.map((r) => `${r.context_tokens}/${r.phase}`),
    ['8192/cold', '8192/reuse', '65536/cold', '65536/reuse', 'null/all'],
  );
  assert.equal(c.baseline, 'pcie', 'pcie is the default baseline even when not first');
  const all = c.rows.at(-1)!;
  assert.equal(all.systems.pcie!.n, 60);
  assert.equal(all.systems.c2c!.cache_hit_rate, 0.5);
  assert.equal(c.rows[0]!.systems.c2c!.cache_hit_rate, null);
  assert.equal(c.rows[0]!.systems.pcie!.n + c.rows[1]!.systems.pcie!.n, 30);
});

test('three systems, each against the chosen baseline; baseline by label or run id', () => {
  const [a, b] = syntheticPair({ n: 40, ratio: 0.5, seed: 'three' });
  const gb = run('gb200', 'run-gb', b.samples.map((s) => ({ ...s, ttft_s: s.ttft_s! * 0.8 })));
  const c = compareRuns([a, b, gb], { baseline: 'c2c' });
  assert.equal(c.baseline, 'c2c');
  assert.deepEqual(c.rows.at(-1)!.vs_baseline.map((v) => v.system), ['pcie', 'gb200']);
  const gbRatio = c.rows.at(-1)!.vs_baseline[1]!.metrics[0]!.ratio!;
  assert.ok(Math.abs(gbRatio - 0.8) < 1e-9);
  assert.equal(compareRuns([a, b, gb], { baseline: 'run-gb' }).baseline, 'gb200');
  assert.equal(compareRuns([gb, b]).baseline, 'gb200', 'first label without pcie');
  assert.throws(() => compareRuns([a, b], { baseline: 'nope' }), ValidationError);
});

test('two runs of one label are told apart by run id', () => {
  const [a] = syntheticPair({ n: 10, ratio: 1, seed: 'dup1' });
  const [a2] = syntheticPair({ n: 10, ratio: 1, seed: 'dup2' });
  const c = compareRuns([a, a2]);
  assert.deepEqual(c.systems.map((s) => s.key), ['pcie@a-dup1', 'pcie@a-dup2']);
});

test('selectRuns: latest run of each system on the baseline workload, or the named runs', () => {
  const s = [sample({ request_id: 'x', ttft_s: 1 })];
  const doc: ResultsDocument = {
    runs: {
      c2c: [run('c2c', 'c-old', s), run('c2c', 'c-new', s), run('c2c', 'c-other', s, { workload_id: 'wl-2' })],
      pcie: [run('pcie', 'p-old', s), run('pcie', 'p-new', s)],
    },
  };
  const ids = (runs: ReturnType<typeof selectRuns>) => runs.map((r) => (r.run_meta as { run_id: string }).run_id);
  assert.deepEqual(ids(selectRuns(doc)), ['c-new', 'p-new']);
  assert.deepEqual(ids(selectRuns(doc, { workloadId: 'wl-2' })), ['c-other']);
  assert.deepEqual(ids(selectRuns(doc, { runIds: ['p-old', 'c-other'] })), ['p-old', 'c-other']);
  assert.throws(() => selectRuns(doc, { runIds: ['zzz'] }), NotFoundError);
});

test('terminal table shows every system, ratios with intervals, verdicts and the simulated mark', () => {
  const [a, b] = syntheticPair({ n: 60, ratio: 0.4, seed: 'table', contexts: [4096] });
  const text = renderComparisonTable(compareRuns([a, b]));
  assert.match(text, /SIMULATED/);
  assert.match(text, /4K\s+cold\s+PCIe \(base\)/);
  assert.match(text, /C2C\s+\d+\s+0\s+[\d.]+/);
  assert.match(text, /0\.\d\d \[0\.\d\d–0\.\d\d\]\*/);
  assert.match(text, /- C2C TTFT p50 2\.\d× lower than PCIe on reuse at 4K tokens, 95% CI/);
  assert.match(text, /cache hit rate/);
});
