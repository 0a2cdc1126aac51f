// Swagger UI as a person drives it, in headless Chromium, on a stack protected as `kvbench up --token`
// protects it: every operation of the workload-api tried from /docs with the example the page shows,
// first without a token (documented 401s), then after Authorize (2xx).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { listenOnLoopback, startNatsServer, type NatsServerHandle } from '@kvbench/testkit';
import { artifactPath, launchChromiumPage, type Chromium } from '@kvbench/testkit/chromium';
import { authorize, documentedOperations, listOperations, tryOperation } from '@kvbench/testkit/swagger';
import type { Page } from 'playwright-core';
import { startApi, type Api } from './helpers.js';

const TOKEN = 'docs-browser-token';
let nats: NatsServerHandle;
let api: Api;
let base: string;
let chromium: Chromium;
let page: Page;
let errors: string[];

before(async () => {
  nats = await startNatsServer();
  api = await startApi(nats, { AUTH_TOKENS: TOKEN, READS_REQUIRE_AUTH: 'true' });
  base = await listenOnLoopback(api.app);
  ({ chromium, page, errors } = await launchChromiumPage());
});
after(async () => {
  await page?.close();
  await chromium?.close();
  await api?.close();
  await nats?.close();
});

/** Documented answers of an operation, from the document the page renders. */
async function documentedStatuses(method: string, path: string): Promise<string[]> {
  const doc = (await api.app.inject({ url: '/openapi.json' })).json();
  return Object.keys(doc.paths[path][method].responses);
}

test('the docs render without a token, and every operation answers its documented 401 until Authorize', async () => {
  const res = await page.goto(`${base}/docs`);
  assert.equal(res?.status(), 200);
  const ops = await listOperations(page);
  const doc = (await api.app.inject({ url: '/openapi.json' })).json();
  assert.deepEqual(
    ops.map((o) => `${o.method} ${o.path}`).sort(),
    documentedOperations(doc).map((o) => `${o.method} ${o.path}`).sort(),
  );
  assert.ok(await page.locator('.auth-wrapper button.authorize').isVisible(), 'Authorize button');
  for (const op of ops) {
    const r = await tryOperation(page, op, op.path.includes('{id}') ? { id: 'run-none' } : {});
    // /health is open on purpose (a probe); everything else needs the token READS_REQUIRE_AUTH asks for.
    const expected = op.path === '/health' ? 200 : 401;
    assert.equal(r.status, expected, `${op.method} ${op.path} without a token: ${r.body}`);
    assert.ok((await documentedStatuses(op.method, op.path)).includes(String(expected)), `${op.method} ${op.path} documents ${expected}`);
  }
  assert.deepEqual(errors.filter((e) => !/401|Unauthorized/.test(e)), []);
});

test('after Authorize every operation runs with the example it shows', async () => {
  await page.goto(`${base}/docs`);
  await listOperations(page);
  await authorize(page, TOKEN);
  const ok = async (method: string, path: string, fill: Record<string, string> = {}) => {
    const r = await tryOperation(page, { method, path }, fill);
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.body}`);
    assert.doesNotMatch(r.requestBody ?? '', /^"string"$/);
    return r;
  };
  await ok('get', '/health');
  await ok('get', '/presets');
  // The examples chain: the workload example creates the workload the run example names.
  const created = await ok('post', '/workloads');
  assert.match(created.requestBody ?? '', /"contexts"/);
  await ok('get', '/workloads/{id}');
  const accepted = await ok('post', '/runs');
  assert.equal(accepted.status, 202);
  const runId = JSON.parse(accepted.body).run_id as string;
  // A run id is the person's own: they copy it from the answer above.
  await ok('get', '/runs/{id}', { id: runId });
  await ok('get', '/runs');
  await ok('get', '/agents');
  await ok('post', '/runs/{id}/cancel', { id: runId });
  await page.screenshot({ path: artifactPath('workload-api-docs.png'), fullPage: false });

  // A deliberately bad one: the documented 4xx, with the field named.
  const textarea = page
    .locator('.opblock.opblock-post')
    .filter({ has: page.locator('.opblock-summary-path[data-path="/runs"]') })
    .locator('.body-param textarea');
  await textarea.fill(JSON.stringify({ system_label: 'pcie', model: 'm' }));
  const bad = await tryOperation(page, { method: 'post', path: '/runs' });
  assert.equal(bad.status, 400, bad.body);
  assert.equal(JSON.parse(bad.body).field, 'workload_id');
  assert.ok((await documentedStatuses('post', '/runs')).includes('400'));
  assert.deepEqual(errors.filter((e) => !/40[01]|Unauthorized|Bad Request/.test(e)), []);
});

test('the Schema tab resolves the named request schema (no unresolved $ref)', async () => {
  await page.goto(`${base}/docs`);
  await listOperations(page);
  const b = page.locator('.opblock.opblock-post').filter({ has: page.locator('.opblock-summary-path[data-path="/runs"]') });
  if (!(await b.locator('.opblock-body').isVisible().catch(() => false))) await b.locator('.opblock-summary').first().click();
  await b.locator('.body-param-options, .model-box, [data-name="model"]').first().waitFor({ timeout: 10_000 }).catch(() => undefined);
  const schemaTab = b.locator('button.tablinks[data-name="model"], .tab li:has-text("Schema") button, .tab li:has-text("Schema") a').first();
  await schemaTab.click();
  const model = b.locator('.model-box').first();
  assert.doesNotMatch((await model.textContent()) ?? '', /\$ref/);
  await model.locator('button:has-text("Expand all")').first().click();
  const text = (await model.textContent()) ?? '';
  // Each field's description, written once on the zod schema, shows under the field.
  assert.match(text, /workload_id.*workload id, as POST \/workloads answered it/);
});
