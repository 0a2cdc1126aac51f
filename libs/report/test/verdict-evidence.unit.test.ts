import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ComparisonSchema, compareRuns, predictHitRate, renderComparisonTable, renderHtmlReport, simulateLru, traceBlockKeys } from '@kvbench/report';
import { importMooncake } from '@kvbench/workload';
import type { Sample } from '@kvbench/common';
import { run, sample, syntheticPair } from './fixtures.js';

const tokens = (host: number) => ({ gpu_hit: 0, host_onboarded: host, recomputed: 0, source: 'test', null_reasons: {} });
const pools = { kv_pools: { tokens_per_block: 64, gpu_blocks: 1000, host_blocks: 4000, block_bytes: 8 * 2 ** 20, h2d_block_gbps: 50, source: 'test' } };

test('the comparison document validates against its own schema (the one /compare serves)', () => {
  const [a, b] = syntheticPair({ n: 60, ratio: 0.5, seed: 'schema', contexts: [1024, 4096] });
  const c = compareRuns([a, b]);
  const parsed = ComparisonSchema.safeParse(c);
  assert.ok(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues.slice(0, 3)));
  assert.equal(c.method.min_effect, 0.05);
});

test('min_effect decides: a 3% difference with a tight interval is called at 1%, not at the default 5%', () => {
  const [a, b] = syntheticPair({ n: 400, ratio: 0.97, seed: 'small', noise: 0.005 });
  const at = (minEffect?: number) => compareRuns([a, b], minEffect === undefined ? {} : { minEffect }).rows.at(-1)!.vs_baseline[0]!.metrics.find((m) => m.metric === 'ttft_p50')!;
  const dflt = at();
  assert.equal(dflt.significant, true, 'the interval excludes 1');
  assert.equal(dflt.meaningful, false);
  assert.match(dflt.verdict, /no meaningful difference .*under the 5% threshold/);
  assert.equal(at(0.01).meaningful, true);
  assert.match(renderComparisonTable(compareRuns([a, b])), /threshold 5%/);
  assert.throws(() => compareRuns([a, b], { minEffect: -0.1 }), /min_effect/);
});

test('A/A: the same system twice finds no meaningful difference in any row', () => {
  const [a] = syntheticPair({ n: 120, ratio: 1, seed: 'aa', contexts: [1024, 8192] });
  const [a2] = syntheticPair({ n: 120, ratio: 1, seed: 'aa', contexts: [1024, 8192] });
  a2.run_meta = { ...a2.run_meta, system_label: 'c2c', run_id: 'aa-2' };
  const c = compareRuns([a, a2]);
  for (const row of c.rows) for (const m of row.vs_baseline[0]!.metrics) assert.notEqual(m.meaningful, true, m.verdict);
});

test('host-bound runs say so beside every verdict and in the notes', () => {
  const [a, b] = syntheticPair({ n: 60, ratio: 0.5, seed: 'hb' });
  b.run_meta = { ...b.run_meta, host_bound: true, clock: 'real', host_lateness: { p50_ms: 3, p99_ms: 40, max_ms: 80, share_of_ttft_p50: 0.3, threshold_share: 0.1, reason: 'event loop late' } };
  const c = compareRuns([a, b]);
  assert.equal(c.systems.find((s) => s.key === 'c2c')!.host_bound, true);
  assert.equal(c.systems.find((s) => s.key === 'c2c')!.host_lateness!.p99_ms, 40);
  for (const row of c.rows) for (const m of row.vs_baseline[0]!.metrics) assert.match(m.verdict, /host-bound/);
  assert.ok(c.notes.some((n) => n.startsWith('host-bound: c2c')));
  assert.equal(compareRuns(syntheticPair({ n: 20, ratio: 0.5, seed: 'nohb' })).systems[0]!.host_bound, null);
});

test('evidence: no reload on either side says the link was not exercised; reloads give blocks and the link bound', () => {
  const mk = (label: string, id: string, host: number, ttft: number) =>
    run(
      label,
      id,
      Array.from({ length: 10 }, (_, i) => sample({ request_id: `r${i}`, ttft_s: ttft + i * 0.001, context_tokens: 8192, phase: 'reuse', tokens: tokens(host) } as Partial<Sample> & { request_id: string; ttft_s: number })),
      pools,
      { offloaded_blocks: 0, onboarded_blocks: (host / 64) * 10 },
    );
  const none = compareRuns([mk('pcie', 'p0', 0, 0.1), mk('c2c', 'c0', 0, 0.1)]).rows[0]!.vs_baseline[0]!.evidence;
  assert.equal(none.link_exercised, false);
  assert.deepEqual(none.requests_reloaded, { baseline: 0, system: 0 });
  assert.match(none.text, /did not exercise the link/);

  const some = compareRuns([mk('pcie', 'p1', 8192, 0.2), mk('c2c', 'c1', 8192, 0.1)]).rows[0]!.vs_baseline[0]!.evidence;
  assert.equal(some.link_exercised, true);
  assert.deepEqual(some.onboarded_blocks, { baseline: 1280, system: 1280 });
  // 8192 tokens × 8 MiB / 64 tokens = 1 GiB over 50 GB/s.
  assert.ok(Math.abs(some.link_bound_s.baseline! - 2 ** 30 / 50e9) < 1e-9);
  assert.match(some.text, /link bound/);

  const unknown = compareRuns([run('pcie', 'u1', [sample({ request_id: 'a', ttft_s: 0.1 }), sample({ request_id: 'b', ttft_s: 0.2 })]), run('c2c', 'u2', [sample({ request_id: 'a', ttft_s: 0.1 }), sample({ request_id: 'b', ttft_s: 0.2 })])]);
  assert.equal(unknown.rows[0]!.vs_baseline[0]!.evidence.link_exercised, null);
});

test('the link bound: both sides over the same requests (those that reloaded on either side), so the bounds differ by the links alone', () => {
  // PCIe reloads all ten requests (five whole 8K prefixes, five 256-token top-ups); C2C's GPU still
  // held the top-ups' prefixes, so it reloads only the five whole prefixes. Each side's own median
  // reloaded request would be 4224 tokens on PCIe and 8192 on C2C: bounds not of the same KV.
  const hostTokens = (label: string, i: number) => (i < 5 ? 8192 : label === 'pcie' ? 256 : 0);
  const mk = (label: string, gbps: number, order: number[]) =>
    run(
      label,
      `${label}-lb`,
      order.map((i) => sample({ request_id: `r${i}`, ttft_s: 0.1 + i * 0.001, context_tokens: 8192, phase: 'reuse', tokens: tokens(hostTokens(label, i)) } as Partial<Sample> & { request_id: string; ttft_s: number })),
      { kv_pools: { ...pools.kv_pools, h2d_block_gbps: gbps } },
    );
  const ids = Array.from({ length: 10 }, (_, i) => i);
  const ev = compareRuns([mk('pcie', 50, ids), mk('c2c', 250, ids)]).rows[0]!.vs_baseline[0]!.evidence;
  assert.deepEqual(ev.requests_reloaded, { baseline: 10, system: 5 });
  // Per request the larger reload: five of 8192, five of 256; median (8192 + 256) / 2.
  assert.deepEqual(ev.link_bound_basis, { requests: 10, kv_tokens: 4224 });
  const bytes = 4224 * (8 * 2 ** 20 / 64);
  assert.ok(Math.abs(ev.link_bound_s.baseline! - bytes / 50e9) < 1e-12, String(ev.link_bound_s.baseline));
  assert.ok(Math.abs(ev.link_bound_s.system! - bytes / 250e9) < 1e-12, String(ev.link_bound_s.system));
  assert.match(ev.text, /median KV of the 10 paired request\(s\) that reloaded on either side, 4224 tokens/);
  // Deterministic: the samples' order does not move it.
  const shuffled = compareRuns([mk('pcie', 50, [...ids].reverse()), mk('c2c', 250, [3, 9, 0, 7, 1, 8, 2, 6, 4, 5])]).rows[0]!.vs_baseline[0]!.evidence;
  assert.deepEqual(shuffled.link_bound_s, ev.link_bound_s);
  assert.deepEqual(shuffled.link_bound_basis, ev.link_bound_basis);
});

test('trace runs group by power-of-two length buckets (or --bucket), not exact lengths', () => {
  const samples = (label: string) =>
    Array.from({ length: 40 }, (_, i) =>
      sample({ request_id: `L${i}`, ttft_s: 0.1 + i / 1000, context_tokens: 1000 + i * 97, prompt_tokens_client: 1000 + i * 97, phase: 'cold', scenario: { kind: 'trace', trace_line: i + 1 } } as Partial<Sample> & { request_id: string; ttft_s: number }),
    ).map((s) => ({ ...s, request_id: `${s.request_id}` })) as Sample[];
  const c = compareRuns([run('pcie', 'tp', samples('pcie')), run('c2c', 'tc', samples('c2c'))]);
  const rows = c.rows.filter((r) => r.phase !== 'all');
  assert.deepEqual(rows.map((r) => r.bucket), [{ low: 512, high: 1024 }, { low: 1024, high: 2048 }, { low: 2048, high: 4096 }, { low: 4096, high: 8192 }]);
  assert.match(c.method.grouping, /power-of-two/);
  assert.match(rows[1]!.vs_baseline[0]!.metrics[0]!.verdict, /at 1K–2K tokens/);
  const wide = compareRuns([run('pcie', 'tp', samples('pcie')), run('c2c', 'tc', samples('c2c'))], { bucket: 4096 });
  assert.equal(wide.rows.filter((r) => r.phase !== 'all').length, 2);
  const exact = compareRuns([run('pcie', 'tp', samples('pcie')), run('c2c', 'tc', samples('c2c'))], { bucket: 'exact' });
  assert.equal(exact.rows.filter((r) => r.phase !== 'all').length, 40);
});

test('trace block keys: an engine block is keyed by the hash ids its tokens fall in and its offset', () => {
  assert.deepEqual(traceBlockKeys([7, 9], 512, 256, 4), ['h7@0', 'h7@256', 'h9@0', 'h9@256']);
  // 384-token engine blocks straddle the trace's 512-token blocks.
  assert.deepEqual(traceBlockKeys([7, 9, 11], 512, 384, 4), ['h7@0', 'h7+9@384', 'h9+11@256', 'h11@128']);
});

/** A tiny trace imported as kvbench imports it, replayed as samples carrying its tags. */
function traceRun(label: string, measured: number | null) {
  const lines = [
    { timestamp: 0, input_length: 2048, output_length: 4, hash_ids: [0, 1, 2, 3] },
    { timestamp: 10, input_length: 3000, output_length: 4, hash_ids: [0, 1, 2, 3, 4, 5] },
    { timestamp: 20, input_length: 1024, output_length: 4, hash_ids: [0, 6] },
    { timestamp: 30, input_length: 2560, output_length: 4, hash_ids: [0, 1, 2, 3, 4] },
  ];
  const doc = importMooncake(lines.map((l) => JSON.stringify(l)).join('\n'), { blockTokens: 512 });
  const prompts = new Map(doc.prompts.map((p) => [p.id, p.tokens]));
  const samples = doc.requests.map((r, i) =>
    sample({ request_id: r.request_id, prompt_id: r.prompt_id, ttft_s: 0.1, scheduled_at_s: i, context_tokens: prompts.get(r.prompt_id)!, prompt_tokens_client: prompts.get(r.prompt_id)!, completion_tokens_server: 4, scenario: r.tags } as Partial<Sample> & { request_id: string; ttft_s: number }),
  );
  return run(label, `${label}-t`, samples, { kv_pools: { tokens_per_block: 64, gpu_blocks: 10_000, host_blocks: 0, source: 'test' } }, { cache_hit_rate: measured });
}

test('a trace is predicted from its own hash_ids: shared prefixes are hits, never 0% by default', () => {
  const h = predictHitRate('pcie', traceRun('pcie', 0.5));
  // Lookups: 32 + 47 + 16 + 40 = 135 blocks; hits: line 2 reuses 32, line 3 reuses 8 (hash 0), line 4 reuses 40.
  assert.equal(h.infinite!.lookups, 135);
  assert.equal(h.infinite!.gpu_hits + h.infinite!.host_hits, 80);
  assert.match(h.model, /hash_ids/);
  assert.equal(h.disagrees, false, h.note);
  // The same replay as simulateLru on the keys directly.
  assert.equal(simulateLru([{ blocks: ['a', 'b'], lookups: 2 }, { blocks: ['a', 'b'], lookups: 2 }], 10, 0).hit_rate, 0.5);
});

test('a trace whose samples carry no hash_ids is not modelled (null, with the reason), never 0% and never DISAGREE', () => {
  const r = traceRun('pcie', 0.3);
  for (const s of r.samples) delete (s.scenario as Record<string, unknown>)['hash_ids'];
  const h = predictHitRate('pcie', r);
  assert.equal(h.infinite, null);
  assert.equal(h.disagrees, null);
  assert.match(h.null_reasons.predicted!, /carry no hash_ids/);
  const table = renderComparisonTable(compareRuns([r]));
  assert.match(table, /not modelled/);
  assert.doesNotMatch(table, /DISAGREE/);
});

test('the HTML report shows the threshold and each row\'s evidence beside its verdicts', () => {
  const [a, b] = syntheticPair({ n: 60, ratio: 0.5, seed: 'html' });
  const c = compareRuns([a, b], { minEffect: 0.1 });
  const html = renderHtmlReport([a, b], c);
  assert.match(html, /at least 10% \(the threshold/);
  assert.match(html, /<li class="evidence[^"]*">evidence: blocks onboarded from host/);
});

test('tail percentiles get an interval only with enough requests beyond them (p95: 100, p99: 500); below, no verdict', () => {
  const [a, b] = syntheticPair({ n: 60, ratio: 0.5, seed: 'tails' });
  const ms = compareRuns([a, b]).rows.at(-1)!.vs_baseline[0]!.metrics;
  const p50 = ms.find((m) => m.metric === 'ttft_p50')!;
  const p95 = ms.find((m) => m.metric === 'ttft_p95')!;
  assert.ok(p50.ci_low !== null && p50.meaningful === true);
  assert.equal(p95.ci_low, null);
  assert.equal(p95.meaningful, null);
  assert.match(p95.verdict, /no verdict \(ratio 0\.\d+ against PCIe, no interval: too few requests for a p95 interval: 60 paired, needs 100\)/);
  const [c, d] = syntheticPair({ n: 120, ratio: 0.5, seed: 'tails-enough' });
  assert.notEqual(compareRuns([c, d]).rows.at(-1)!.vs_baseline[0]!.metrics.find((m) => m.metric === 'ttft_p95')!.ci_low, null);
});
