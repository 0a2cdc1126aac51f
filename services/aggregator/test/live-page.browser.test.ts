import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { RunEvent } from '@kvbench/common';
import { startListeningAggregator, waitForReceived, type Harness } from './harness.js';
import { runFixture } from './fixtures.js';
import { artifactPath, collectErrors, launchChromium } from '@kvbench/testkit/chromium';

let h: Harness;
let app: FastifyInstance;
let base: string;
let chromium: Awaited<ReturnType<typeof launchChromium>>;

before(async () => {
  ({ h, app, base } = await startListeningAggregator());
  chromium = await launchChromium();
});
after(async () => {
  await chromium?.close();
  await h?.close();
});

const CONTEXTS = [4096, 16384, 65536];
const EVIL_ID = '<img src=x onerror="window.__pwned=1">';

/** 36 samples over three context sizes, cold first then reuse, TTFT growing with context (reuse cheaper). */
function liveRun() {
  const run = runFixture({ runId: 'live-run', samples: 36 });
  const samples = run.samples.map((e, i) => {
    const s = (e as Extract<RunEvent, { type: 'sample' }>).sample;
    const ctx = CONTEXTS[i % 3]!;
    const phase = i < 12 ? 'cold' : 'reuse';
    const ttft = (phase === 'cold' ? ctx / 40_000 : ctx / 200_000) * (1 + ((i * 7) % 5) / 10);
    return { ...e, sample: { ...s, request_id: i === 20 ? EVIL_ID : s.request_id, context_tokens: ctx, phase, ttft_s: ttft, latency_s: ttft + 0.3 } } as RunEvent;
  });
  return { ...run, samples };
}

test('live page in headless Chromium plots samples as they arrive and ends on completed', async () => {
  const run = liveRun();
  // Its workload holds every request id it will send (the hostile one too), as a real workload does.
  await h.registerWorkloads([run.accepted, run.started, ...run.samples]);
  await h.publish([run.accepted, run.started, ...run.samples.slice(0, 6)]);
  await waitForReceived(app, 'live-run', 6);

  const page = await chromium.context.newPage();
  const errors = collectErrors(page);
  const failedRequests: string[] = [];
  page.on('requestfailed', (r) => {
    // The page closes its EventSource on `completed`; if that beats the server's end of stream, Chromium reports the
    // stream as aborted. That is the page's own doing, not a failure.
    if (r.url().endsWith('/runs/live-run/events') && r.failure()?.errorText === 'net::ERR_ABORTED') return;
    failedRequests.push(`${r.url()} ${r.failure()?.errorText}`);
  });
  await page.setViewportSize({ width: 1340, height: 820 });
  const res = await page.goto(`${base}/runs/live-run/live`);
  assert.equal(res?.status(), 200);
  assert.match(res!.headers()['content-security-policy']!, /script-src 'nonce-/);

  const marks = (chart: string) => page.locator(`#${chart} .mark`).count();
  // Functions run in the page (strings would be eval, which the page's CSP rightly forbids); this package has no DOM types, hence `globalThis as any`.
  const waitMarks = (n: number) => page.waitForFunction((k) => (globalThis as any).document.querySelectorAll('#timeline .mark').length === k, n, { timeout: 20_000 });
  await waitMarks(6);
  assert.equal(await page.textContent('#done'), '6 of 36 requests');

  await h.publish(run.samples.slice(6, 24));
  await waitMarks(24);
  assert.equal(await page.textContent('#done'), '24 of 36 requests');
  assert.equal(await marks('by-context'), 24);
  await page.screenshot({ path: artifactPath('live-midway.png') });

  await h.publish([...run.samples.slice(24), run.engineStats, run.completed]);
  await page.waitForFunction(() => (globalThis as any).document.getElementById('status').textContent === 'completed', undefined, { timeout: 20_000 });
  await waitMarks(36);
  assert.equal(await marks('by-context'), 36);
  assert.equal(await page.textContent('#done'), '36 of 36 requests');
  // One stats row per (context, phase): 3 contexts × cold and reuse.
  assert.equal(await page.locator('#stats tr').count(), 6);
  assert.ok(await page.isVisible('#simulated'), 'simulated banner shown for a simulated run');
  const p50 = await page.textContent('#p50');
  assert.match(p50 ?? '', /^\d+(\.\d+)? ms$/);
  // The request id arrived as text, not markup.
  assert.equal(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
  assert.equal(await page.locator('img').count(), 0);
  const titles = await page.$$eval('#timeline .mark title', (t) => t.map((x) => x.textContent ?? ''));
  assert.ok(titles.some((t) => t.startsWith(EVIL_ID)));

  await page.screenshot({ path: artifactPath('live.png'), fullPage: true });
  assert.deepEqual(errors, []);
  assert.deepEqual(failedRequests, []);
  await page.close();
});

test('live page of an unknown run is 404', async () => {
  const r = await app.inject('/runs/nope/live');
  assert.equal(r.statusCode, 404);
});
