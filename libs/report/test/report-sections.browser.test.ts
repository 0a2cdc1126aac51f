/**
 * The breakdown, goodput, hit-rate and run-settings sections in headless Chromium: every new chart
 * drawn with its data points, no console error, nothing fetched, and at 1400 px nothing cut off
 * (no element wider than its box). Screenshots go to test-artifacts/.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { compareRuns, parseSlo, renderHtmlReport, renderSweepReport, sweepReport } from '@kvbench/report';
import { artifactPath, collectErrors, launchChromium } from '@kvbench/testkit/chromium';
import { breakdownPair, multiturnPair, sweepRuns } from './fixtures.js';

let chromium: Awaited<ReturnType<typeof launchChromium>>;
before(async () => {
  chromium = await launchChromium();
});
after(async () => {
  await chromium?.close();
});

test('breakdown, goodput, hit rate and settings: drawn with data, readable, nothing overflowing at 1400 px', async () => {
  const [a, b] = breakdownPair();
  // A long unbroken value, as an engine argv or a YAML line would be.
  (b.run_meta as Record<string, unknown>)['notes'] = 'x'.repeat(400);
  const comparison = compareRuns([a, b], { slo: parseSlo('ttft_ms=300,latency_ms=1500') });
  const file = artifactPath('report-sections.html');
  writeFileSync(file, renderHtmlReport([a, b], comparison, { generatedAt: 'test' }));
  const page = await chromium.context.newPage();
  const errors = collectErrors(page);
  const requests: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.goto(`file://${file}`);

  const charts = await page.$$eval('figure.chart', (figs) =>
    figs.map((f) => ({ id: f.getAttribute('data-chart'), marks: f.querySelectorAll('svg .mark').length, ticks: f.querySelectorAll('svg line.p50').length, labels: [...f.querySelectorAll('svg text.axis-label')].map((t) => t.textContent) })),
  );
  const byId = new Map(charts.map((c) => [c.id, c]));
  // Per context: 2 phases × 2 systems bars of 7 simulator parts (client, to engine, queue, onboard, prefill, rest, to client);
  // cold requests onboard nothing, so their bars have 6 segments.
  for (const ctx of [8192, 32768, 65536]) {
    const c = byId.get(`ttft-breakdown-${ctx}`)!;
    assert.ok(c, `breakdown chart for ${ctx}`);
    assert.equal(c.marks, 2 * 6 + 2 * 7, `segments at ${ctx}`);
    assert.equal(c.ticks, 4, 'a p50 tick per bar');
    assert.ok(c.labels.includes('time to first token (ms)'));
  }
  assert.equal(byId.get('ttft-breakdown-all')!.marks, 2 * 7);
  // Hit rate: 4 bars per system (GPU only, GPU + host, infinite, measured).
  assert.equal(byId.get('hit-rate-prediction')!.marks, 8);
  assert.ok(byId.get('hit-rate-prediction')!.labels.includes('hit rate (% of blocks looked up)'));
  assert.equal(byId.get('goodput')!.marks, 2);
  const legend = await page.$$eval('#breakdown + .legend .item', (i) => i.map((x) => x.textContent));
  assert.ok(legend.includes('KV onboard (host → GPU)') && legend.includes('engine queue (arrival → scheduled)'), legend.join(' | '));

  // The paired ratio of each part, per context and phase (3 contexts × 2 phases + all).
  assert.equal(await page.locator('table.part-ratios tr').count(), 1 + 7);
  // Settings: what differs first (a column per run, highlighted), the shared rest folded; raw JSON behind a click.
  const head = await page.$$eval('table.settings.differing tr:first-child th', (th) => th.map((x) => x.textContent));
  assert.deepEqual(head, ['setting', 'PCIe (simulated)', 'C2C (simulated)']);
  const differing = await page.$$eval('table.settings tr.differs th.setting', (th) => th.map((x) => (x.textContent ?? '').replace(' ≠', '')));
  assert.ok(differing.includes('kv_config.max_tokens') && differing.includes('notes'), differing.join(', '));
  assert.equal(await page.locator('table.settings.differing tr:not(.differs)').count(), 1, 'only the header row is not a differing one');
  assert.ok(!(await page.isVisible('details.settings-rest table')), 'shared settings folded');
  assert.ok(!(await page.isVisible('details.raw pre')), 'raw JSON folded');
  await page.click('details.raw summary');
  assert.ok(await page.isVisible('details.raw pre'));

  // Nothing cut off: no element sticks out of the page or of its own box horizontally.
  // (A string: this package's TypeScript has no DOM types.)
  const overflow = (await page.evaluate(`(() => {
    const out = [];
    if (document.documentElement.scrollWidth > window.innerWidth) out.push('page ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
    for (const e of document.querySelectorAll('table.settings, table.settings td, table.settings th, .meta section, .meta pre, figure.chart')) {
      if (e.scrollWidth > e.clientWidth + 1) out.push(e.tagName + '.' + e.className + ' ' + e.scrollWidth + ' > ' + e.clientWidth + ': ' + (e.textContent || '').slice(0, 40));
    }
    return out;
  })()`)) as string[];
  assert.deepEqual(overflow, []);

  await page.screenshot({ path: artifactPath('report-sections-full.png'), fullPage: true });
  await page.locator('#breakdown + .legend + .grid').screenshot({ path: artifactPath('report-breakdown.png') });
  await page.locator('figure[data-chart="hit-rate-prediction"]').screenshot({ path: artifactPath('report-hit-rate.png') });
  await page.locator('#goodput + .grid').screenshot({ path: artifactPath('report-goodput.png') });
  await page.locator('#runs').scrollIntoViewIfNeeded();
  await page.screenshot({ path: artifactPath('report-settings-1400.png') });
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, [], 'the page fetched nothing');
});

test('scenario charts: TTFT and hit rate by turn with interval bands, trace CDF and TTFT over time', async () => {
  const page = await chromium.context.newPage();
  const errors = collectErrors(page);
  await page.setViewportSize({ width: 1400, height: 900 });
  for (const kind of ['multiturn', 'trace'] as const) {
    const [a, b] = multiturnPair(8, 5, kind);
    const file = artifactPath(`report-${kind}.html`);
    writeFileSync(file, renderHtmlReport([a, b], compareRuns([a, b]), { generatedAt: 'test' }));
    await page.goto(`file://${file}`);
    const charts = await page.$$eval('figure.chart', (figs) =>
      figs.map((f) => ({ id: f.getAttribute('data-chart'), marks: f.querySelectorAll('svg .mark').length, bands: f.querySelectorAll('svg path.band').length, labels: [...f.querySelectorAll('svg text.axis-label')].map((t) => t.textContent), legend: f.querySelectorAll('.legend .item').length })),
    );
    const byId = new Map(charts.map((c) => [c.id, c]));
    if (kind === 'multiturn') {
      // 5 turns × (p50 + p90) × 2 systems; a band per percentile and system.
      assert.equal(byId.get('multiturn-ttft')?.marks, 20);
      assert.equal(byId.get('multiturn-ttft')?.bands, 4);
      assert.equal(byId.get('multiturn-ttft')?.legend, 4);
      assert.ok(byId.get('multiturn-ttft')!.labels.some((l) => l?.startsWith('TTFT (ms')) && byId.get('multiturn-ttft')!.labels.includes('turn index (1 = first turn of a session)'));
      assert.equal(byId.get('multiturn-hit-rate')?.marks, 10);
      assert.equal(await page.locator('table.turn-ratios tr').count(), 2);
      await page.locator('#multiturn + .grid').screenshot({ path: artifactPath('report-multiturn.png') });
    } else {
      assert.equal(byId.get('trace-ttft-cdf')?.marks, 2, 'a CDF line per system');
      assert.equal(byId.get('trace-ttft-over-time')?.marks, 2 * 40);
      assert.ok(byId.get('trace-ttft-cdf')!.labels.includes('requests with TTFT at most x (%)'));
      await page.locator('#trace + .grid').screenshot({ path: artifactPath('report-trace.png') });
    }
  }
  assert.deepEqual(errors, []);
});

test('sweep page: capacity (TTFT and hit rate against working set, G and G + H drawn) and offload vs recompute with the link bound', async () => {
  const page = await chromium.context.newPage();
  const errors = collectErrors(page);
  await page.setViewportSize({ width: 1400, height: 900 });
  const runs = sweepRuns();
  const report = { capacity: sweepReport(runs, { sweepId: 'sw-cap' }).capacity, offload: sweepReport(runs, { sweepId: 'sw-off' }).offload };
  const file = artifactPath('report-sweeps.html');
  writeFileSync(file, renderSweepReport(report, { generatedAt: 'test', simulated: true }));
  await page.goto(`file://${file}`);
  const charts = await page.$$eval('figure.chart', (figs) =>
    figs.map((f) => ({ id: f.getAttribute('data-chart'), marks: f.querySelectorAll('svg .mark').length, tiers: f.querySelectorAll('svg line.tier').length, paths: f.querySelectorAll('svg path').length, labels: [...f.querySelectorAll('svg text.axis-label')].map((t) => t.textContent) })),
  );
  const byId = new Map(charts.map((c) => [c.id, c]));
  // 6 points × (p50 + p90) × 2 systems; G and G + H of both systems.
  assert.equal(byId.get('capacity-ttft')?.marks, 24);
  assert.equal(byId.get('capacity-ttft')?.tiers, 4);
  assert.ok(byId.get('capacity-ttft')!.labels.includes('working set (tokens, GiB of KV for the model; log scale)'));
  assert.equal(byId.get('capacity-hit-rate')?.marks, 12);
  // Offload: 3 lengths × 2 systems × (onboard + recompute) points, less PCIe's unconfirmed 16K onboard; link-bound lines drawn.
  assert.equal(byId.get('offload-ttft')?.marks, 11);
  assert.ok(byId.get('offload-ttft')!.paths >= 2 * 3 - 1, 'onboard, recompute and link-bound lines');
  assert.equal(byId.get('offload-speedup')?.marks, 5);
  assert.ok(await page.isVisible('#simulated-banner'));
  await page.screenshot({ path: artifactPath('report-sweeps.png'), fullPage: true });
  assert.deepEqual(errors, []);
});
