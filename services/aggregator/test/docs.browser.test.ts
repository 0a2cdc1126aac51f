// Swagger UI as a person drives it, in headless Chromium, on an aggregator protected as
// `kvbench up --token` protects it (READ_TOKEN): every operation tried from /docs with the
// example it shows, first without a token (documented 401s), then after Authorize (2xx).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { listenOnLoopback } from '@kvbench/testkit';
import { artifactPath, collectErrors, launchChromiumPage, type Chromium } from '@kvbench/testkit/chromium';
import { authorize, documentedOperations, listOperations, tryOperation } from '@kvbench/testkit/swagger';
import { EXAMPLE_RUN_SUMMARY } from '../src/api-examples.js';
import { scaledRun } from './compare-fixtures.js';
import { LogCapture, startHarness, waitForRunStatus, type Harness } from './harness.js';

const TOKEN = 'agg-docs-token';
let h: Harness;
let app: FastifyInstance;
let base: string;
let chromium: Chromium;
let page: Page;
let errors: string[];
const logs = new LogCapture();
// The run the examples name, and a paired run of the other system, so compare has two sides.
const RUN_ID = EXAMPLE_RUN_SUMMARY.run_id;
const WORKLOAD_ID = EXAMPLE_RUN_SUMMARY.workload_id;

before(async () => {
  h = await startHarness();
  app = await h.start({ env: { READ_TOKEN: TOKEN, LOG_LEVEL: 'info' }, logs });
  await h.publish(scaledRun({ runId: RUN_ID, label: 'pcie', samples: 6, workloadId: WORKLOAD_ID }, 1).all);
  await h.publish(scaledRun({ runId: 'run-c2c-docs', label: 'c2c', samples: 6, workloadId: WORKLOAD_ID }, 0.5).all);
  const auth = { authorization: `Bearer ${TOKEN}` };
  await waitForRunStatus(withAuth(app, auth), RUN_ID, 'completed');
  await waitForRunStatus(withAuth(app, auth), 'run-c2c-docs', 'completed');
  base = await listenOnLoopback(app);
  ({ chromium, page, errors } = await launchChromiumPage());
});
after(async () => {
  await page?.close();
  await chromium?.close();
  await h?.close();
});

/** The harness polls with app.inject; with READ_TOKEN on, those polls carry the token. */
function withAuth(a: FastifyInstance, headers: Record<string, string>): FastifyInstance {
  return new Proxy(a, {
    get(target, prop) {
      if (prop === 'inject') return (opts: any) => target.inject(typeof opts === 'string' ? { url: opts, headers } : { ...opts, headers: { ...opts.headers, ...headers } });
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

async function documented(method: string, path: string): Promise<string[]> {
  const doc = (await app.inject({ url: '/openapi.json' })).json();
  return Object.keys(doc.paths[path][method].responses);
}

/** What a person types: the workload of their runs for compare, a sweep id they do not have. */
const FILL: Record<string, Record<string, string>> = {
  '/compare': { workload_id: WORKLOAD_ID },
  '/compare.html': { workload_id: WORKLOAD_ID },
  '/sweeps/{id}': { id: 'no-such-sweep' },
  '/sweeps/{id}/report.html': { id: 'no-such-sweep' },
};

test('the aggregator docs render without a token, with an Authorize button; data answers its documented 401', async () => {
  const res = await page.goto(`${base}/docs`);
  assert.equal(res?.status(), 200);
  const ops = await listOperations(page);
  const doc = (await app.inject({ url: '/openapi.json' })).json();
  assert.deepEqual(ops.map((o) => `${o.method} ${o.path}`).sort(), documentedOperations(doc).map((o) => `${o.method} ${o.path}`).sort());
  assert.ok(await page.locator('.auth-wrapper button.authorize').isVisible(), 'Authorize button');
  for (const op of ops) {
    const r = await tryOperation(page, op, FILL[op.path] ?? {});
    const expected = op.path === '/health' ? 200 : 401;
    assert.equal(r.status, expected, `${op.method} ${op.path} without a token: ${r.body}`);
    assert.ok((await documented(op.method, op.path)).includes(String(expected)), `${op.method} ${op.path} documents ${expected}`);
  }
});

test('after Authorize every operation runs with the example it shows', async () => {
  await page.goto(`${base}/docs`);
  const ops = await listOperations(page);
  await authorize(page, TOKEN);
  for (const op of ops) {
    const r = await tryOperation(page, op, FILL[op.path] ?? {});
    // No sweep was run on this stack: the documented 404, the answer to a deliberately bad id.
    const expected = op.path.startsWith('/sweeps/') ? 404 : 200;
    assert.equal(r.status, expected, `${op.method} ${op.path}: ${r.body.slice(0, 300)}`);
    assert.ok((await documented(op.method, op.path)).includes(String(expected)) || expected === 200, `${op.method} ${op.path} documents ${expected}`);
  }
  await page.screenshot({ path: artifactPath('aggregator-docs.png') });
  assert.deepEqual(errors.filter((e) => !/40[14]|Unauthorized|Not Found/.test(e)), []);
});

test('a person opens the protected report and live pages: token once on /login, then an HttpOnly SameSite=Strict session', async () => {
  const context = chromium.context;
  await context.clearCookies();
  const p = await context.newPage();
  const pageErrors = collectErrors(p);
  // The link `kvbench up` prints: without a session it leads to the login form, and back after it.
  const report = `${base}/compare.html?workload_id=${WORKLOAD_ID}`;
  await p.goto(report);
  assert.equal(new URL(p.url()).pathname, '/login');
  await p.fill('input[name="token"]', 'wrong-token');
  await p.click('button[type="submit"]');
  assert.ok(await p.isVisible('#error'), 'a wrong token is refused on the form');
  await p.fill('input[name="token"]', TOKEN);
  await Promise.all([p.waitForURL(report), p.click('button[type="submit"]')]);
  assert.match((await p.content()) ?? '', /pcie/);
  await p.screenshot({ path: artifactPath('compare-after-login.png') });

  const [cookie] = await context.cookies(base);
  assert.equal(cookie?.name, 'kvbench_session');
  assert.equal(cookie?.httpOnly, true);
  assert.equal(cookie?.sameSite, 'Strict');
  assert.ok(!cookie!.value.includes(TOKEN));
  assert.equal(await p.evaluate(() => (globalThis as any).document.cookie), '', 'no script can read the session');

  // The live page and its event stream read with the session.
  const live = await p.goto(`${base}/runs/${RUN_ID}/live`);
  assert.equal(live?.status(), 200);
  await p.waitForFunction(() => (globalThis as any).document.getElementById('status')?.textContent === 'completed', undefined, { timeout: 30_000 });

  // Reads only: the session cookie is no credential for anything but GET/HEAD, and not for another token's server.
  const asCookie = { cookie: `${cookie!.name}=${cookie!.value}` };
  assert.equal((await app.inject({ url: '/runs', headers: asCookie })).statusCode, 200);
  assert.equal((await app.inject({ method: 'POST', url: '/runs', headers: asCookie })).statusCode, 401);
  assert.equal((await app.inject({ url: '/runs', headers: { cookie: `${cookie!.name}=${cookie!.value.replace(/.$/, 'A')}x` } })).statusCode, 401);

  // Logging out ends it.
  await p.evaluate(() => fetch('/logout', { method: 'POST' }));
  await p.goto(report);
  assert.equal(new URL(p.url()).pathname, '/login');
  // The one failed load is the deliberately wrong token's answer (401 with the form again).
  assert.deepEqual(pageErrors, ['Failed to load resource: the server responded with a status of 401 (Unauthorized)']);
  await p.close();
  // The token reached no log line (it travelled once, in a POST body); the session value neither.
  const text = logs.lines.map((l) => JSON.stringify(l)).join('\n');
  assert.ok(logs.lines.length > 0);
  assert.ok(!text.includes(TOKEN), 'token in a log line');
  assert.ok(!text.includes(cookie!.value), 'session in a log line');
});
