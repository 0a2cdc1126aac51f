import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '@kvbench/testkit';
import { buildApp } from '../src/app.js';
import { loadAggregatorConfig } from '../src/config.js';
import { tokenMatches } from '../src/plugins/auth.js';

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => {
  dir = await tempDir('kvbench-agg-auth-');
});
after(async () => {
  await dir.cleanup();
});

// Reads-only apps: no NATS needed, which is also how reports over an existing database run.
const readOnlyApp = (env: Record<string, string>) =>
  buildApp(loadAggregatorConfig({ DB_PATH: join(dir.path, 'auth.sqlite'), ...env }), { ingest: false, logger: false });

test('READ_TOKEN protects reads: 401 without a token and with a wrong one; /health and the API docs stay open', async () => {
  const app = await readOnlyApp({ READ_TOKEN: 's3cret-token' });
  try {
    assert.equal((await app.inject({ url: '/runs' })).statusCode, 401);
    assert.equal((await app.inject({ url: '/runs' })).headers['www-authenticate'], 'Bearer realm="kvbench"');
    assert.equal((await app.inject({ url: '/results', headers: { authorization: 'Bearer wrong' } })).headers['www-authenticate'], 'Bearer realm="kvbench"');
    assert.equal((await app.inject({ url: '/results', headers: { authorization: 'Bearer wrong' } })).statusCode, 401);
    assert.equal((await app.inject({ url: '/results', headers: { authorization: 'Basic czNjcmV0' } })).statusCode, 401);
    assert.equal((await app.inject({ url: '/results', headers: { authorization: 'Bearer s3cret-token' } })).statusCode, 200);
    assert.equal((await app.inject({ url: '/health' })).statusCode, 200);
    // The description holds no data: readable without a token, with the scheme Swagger UI's Authorize button uses.
    assert.equal((await app.inject({ url: '/docs/' })).statusCode, 200);
    const res = await app.inject({ url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', description: 'READ_TOKEN of the aggregator (`kvbench up --token`)' });
    assert.deepEqual(res.json().paths['/runs'].get.security, [{ bearerAuth: [] }]);
    assert.ok(res.json().paths['/runs'].get.responses['401'], '401 documented');
    assert.deepEqual(res.json().paths['/health'].get.security, []);
  } finally {
    await app.close();
  }
});

test('tokens compare by value only', () => {
  assert.equal(tokenMatches('abc', 'abc'), true);
  assert.equal(tokenMatches('abc', 'abd'), false);
  assert.equal(tokenMatches('abc', 'abcd'), false);
  assert.equal(tokenMatches('', 'abc'), false);
});

test('CORS is closed unless CORS_ORIGINS is set, then open to those origins only', async () => {
  const closed = await readOnlyApp({});
  try {
    const r = await closed.inject({ url: '/runs', headers: { origin: 'http://evil.example' } });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  } finally {
    await closed.close();
  }
  const open = await readOnlyApp({ CORS_ORIGINS: 'http://lab.example' });
  try {
    const ok = await open.inject({ url: '/runs', headers: { origin: 'http://lab.example' } });
    assert.equal(ok.headers['access-control-allow-origin'], 'http://lab.example');
    const other = await open.inject({ url: '/runs', headers: { origin: 'http://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  } finally {
    await open.close();
  }
});

test('bad configuration names the variable', () => {
  assert.throws(() => loadAggregatorConfig({ PORT: 'abc' }), /PORT/);
  assert.throws(() => loadAggregatorConfig({ INGEST_CONSUMER: 'bad name' }), /INGEST_CONSUMER/);
  assert.throws(() => loadAggregatorConfig({ READ_TOKEN_FILE: join(dir.path, 'missing') }), /READ_TOKEN_FILE/);
  assert.throws(() => loadAggregatorConfig({ INGEST_ACK_WAIT_S: '0' }), /INGEST_ACK_WAIT_S/);
});

test('the events ack wait: 30 s unless INGEST_ACK_WAIT_S says otherwise', () => {
  assert.equal(loadAggregatorConfig({}).ingest.ackWaitMs, 30_000);
  assert.equal(loadAggregatorConfig({ INGEST_ACK_WAIT_S: '3' }).ingest.ackWaitMs, 3_000);
});
