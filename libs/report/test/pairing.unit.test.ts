import assert from 'node:assert/strict';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import { compareRuns, pairByRequestId } from '@kvbench/report';
import { run, sample } from './fixtures.js';

test('pairs by request_id, not by position; unpaired and failed requests are excluded and counted', () => {
  const base = [
    sample({ request_id: 'a', ttft_s: 1 }),
    sample({ request_id: 'b', ttft_s: 2 }),
    sample({ request_id: 'c', ttft_s: 3 }),
    sample({ request_id: 'only-base', ttft_s: 9 }),
    sample({ request_id: 'fails-other', ttft_s: 4 }),
  ];
  const other = [
    sample({ request_id: 'c', ttft_s: 30 }),
    sample({ request_id: 'a', ttft_s: 10 }),
    sample({ request_id: 'fails-other', ttft_s: null, ok: false, error: 'boom' }),
    sample({ request_id: 'only-other-1', ttft_s: 5 }),
    sample({ request_id: 'b', ttft_s: 20 }),
    sample({ request_id: 'only-other-2', ttft_s: 5 }),
  ];
  const p = pairByRequestId(base, other);
  assert.deepEqual(p.request_ids, ['a', 'b', 'c']);
  assert.deepEqual([...p.baseline.ttft_s], [1, 2, 3]);
  assert.deepEqual([...p.other.ttft_s], [10, 20, 30]);
  assert.equal(p.baseline_only, 1);
  assert.equal(p.other_only, 2);
  assert.equal(p.failed, 1);
});

test('compareRuns pairs the same requests: other = baseline × 0.5 per request gives the interval [0.5, 0.5] whatever the order', () => {
  const rng = seedrandom('order');
  const base = Array.from({ length: 60 }, (_, i) => sample({ request_id: `q${i}`, ttft_s: 0.05 + rng() * 2 }));
  // Same requests at half the TTFT, in a shuffled order, plus requests only one side has.
  const other = base.map((s) => sample({ ...s, ttft_s: s.ttft_s! * 0.5, latency_s: s.latency_s! * 0.5 })).sort(() => rng() - 0.5);
  other.push(sample({ request_id: 'extra', ttft_s: 100 }));
  base.push(sample({ request_id: 'missing', ttft_s: 100 }));
  const c = compareRuns([run('pcie', 'a', base), run('c2c', 'b', other)], { resamples: 1000 });
  const all = c.rows.at(-1)!.vs_baseline[0]!;
  assert.equal(all.paired, 60);
  assert.deepEqual(all.unpaired, { baseline_only: 1, system_only: 1, failed: 0 });
  const m = all.metrics.find((x) => x.metric === 'ttft_p50')!;
  assert.ok(Math.abs(m.ratio! - 0.5) < 1e-12 && Math.abs(m.ci_low! - 0.5) < 1e-12 && Math.abs(m.ci_high! - 0.5) < 1e-12, JSON.stringify(m));
  assert.ok(c.notes.some((n) => n.includes('60 requests paired') && n.includes('1 measured only on pcie')));
  // Per-system stats still use every measured request of each run (the extra ones included).
  assert.equal(c.rows.at(-1)!.systems.pcie!.n, 61);
});
