import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { compareRuns, renderHtmlReport } from '@kvbench/report';
import { artifactPath, collectErrors, launchChromium } from '@kvbench/testkit/chromium';
import { shapedPair } from './fixtures.js';

let chromium: Awaited<ReturnType<typeof launchChromium>>;
before(async () => {
  chromium = await launchChromium();
});
after(async () => {
  await chromium?.close();
});

test('HTML report in headless Chromium: no errors, every chart drawn with its data points, offline', async () => {
  const [a, b] = shapedPair();
  const html = renderHtmlReport([a, b], compareRuns([a, b]), { generatedAt: 'test' });
  const file = artifactPath('report.html');
  writeFileSync(file, html);
  const page = await chromium.context.newPage();
  const errors = collectErrors(page);
  const requests: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) requests.push(r.url());
  });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`file://${file}`);

  const charts = await page.$$eval('figure.chart', (figs) =>
    figs.map((f) => ({ id: f.getAttribute('data-chart'), marks: f.querySelectorAll('svg .mark').length, svgs: f.querySelectorAll('svg').length })),
  );
  const byId = new Map(charts.map((c) => [c.id, c]));
  const perContext = (ctx: number) => a.samples.filter((s) => s.context_tokens === ctx).length + b.samples.filter((s) => s.context_tokens === ctx).length;
  // One dot per request and system in each distribution; 3 contexts × 2 phases × 2 systems medians; one bar per system.
  for (const ctx of [8192, 32768, 65536]) assert.equal(byId.get(`ttft-dist-${ctx}`)?.marks, perContext(ctx), `ttft-dist-${ctx}`);
  assert.equal(byId.get('ttft-vs-context')?.marks, 12);
  assert.equal(byId.get('cache-hit-rate')?.marks, 2);
  assert.equal(byId.get('offload-bandwidth')?.marks, 2);
  assert.equal(byId.get('blocks')?.marks, 4);
  assert.equal(byId.get('timeline-0')?.marks, a.samples.length);
  assert.equal(byId.get('timeline-1')?.marks, b.samples.length);
  for (const c of charts) assert.ok(c.svgs === 1 && c.marks > 0, `chart ${c.id} has data`);

  assert.ok(await page.isVisible('#simulated-banner'));
  assert.equal(await page.locator('table.comparison tr').count(), 2 + 7 * 2, '2 header rows + (6 rows + all) × 2 systems');
  const verdicts = await page.$$eval('ul.verdicts li', (li) => li.map((x) => x.textContent ?? ''));
  assert.ok(verdicts.some((v) => /^C2C TTFT p50 [\d.]+× lower than PCIe on reuse at 64K tokens, 95% CI/.test(v)), verdicts.join('\n'));
  // Axis labels carry units.
  const labels = await page.$$eval('svg text.axis-label', (t) => t.map((x) => x.textContent ?? ''));
  assert.ok(labels.some((l) => l.startsWith('TTFT (ms')) && labels.includes('bandwidth (GB/s)') && labels.includes('scheduled at (s since run start)'));

  await page.screenshot({ path: artifactPath('report.png'), fullPage: true });
  await page.screenshot({ path: artifactPath('report-top.png') });
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, [], 'the page fetched nothing');
});
