import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startNatsServer, tempDir, type NatsServerHandle } from '@kvbench/testkit';
import { ConfigError } from '@kvbench/common';
import { loadApiConfig } from '@kvbench/workload-api';
import { TokenSet } from '../src/plugins/auth.js';
import { apiForSuite, auth, SMALL_PARAMS, startApi, type Api } from './helpers.js';

const WRITE = 'w-8c1f0e6b7d2a4e59b3c1';
const WRITE_FROM_FILE = 'f-2b7e9c4d1a0f6e38d5b2';
const READ = 'r-5d3a1c9e7b2f4068a1e4';

describe('auth', () => {
  let nats: NatsServerHandle;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let api: Api;
  before(async () => {
    nats = await startNatsServer();
    dir = await tempDir();
    const file = join(dir.path, 'tokens');
    await writeFile(file, `# lab tokens\n${WRITE_FROM_FILE}\n\n`);
    api = await startApi(nats, { AUTH_TOKENS: `${WRITE}, other-token`, AUTH_TOKENS_FILE: file, AUTH_READ_TOKENS: READ });
  });
  after(async () => {
    await api?.close();
    await nats?.close();
    await dir?.cleanup();
  });

  const create = (headers: Record<string, string> = {}) =>
    api.app.inject({ method: 'POST', url: '/workloads', payload: { params: SMALL_PARAMS }, headers });

  it('401 without a token, with a wrong one, or with another scheme', async () => {
    for (const headers of [{}, auth('nope'), auth(WRITE + 'x'), { authorization: `Basic ${WRITE}` }, { authorization: 'Bearer' }]) {
      const res = await create(headers);
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      assert.equal(res.json().error, 'UNAUTHORIZED');
      assert.match(String(res.headers['www-authenticate']), /^Bearer/);
    }
    const run = await api.app.inject({ method: 'POST', url: '/runs', payload: { workload_id: 'wl-0', system_label: 'pcie', model: 'm' } });
    assert.equal(run.statusCode, 401);
  });

  it('403 for a read-only token on a write', async () => {
    const res = await create(auth(READ));
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error, 'FORBIDDEN');
  });

  it('accepts tokens from AUTH_TOKENS and from AUTH_TOKENS_FILE', async () => {
    assert.equal((await create(auth(WRITE))).statusCode, 201);
    assert.equal((await create(auth('other-token'))).statusCode, 201);
    assert.equal((await create({ authorization: `bearer ${WRITE_FROM_FILE}` })).statusCode, 201);
    assert.equal((await create(auth('# lab tokens'))).statusCode, 401);
  });

  // Why the workload-api has no browser session: its writes start runs, and a cookie is sent with
  // whatever a foreign page makes the browser post (CSRF). Only a header a page cannot set
  // cross-site (Swagger UI's Authorize) authorizes; this holds it so.
  it('authorizes nothing a browser sends by itself: a cross-site form POST with cookies is 401', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/runs',
      headers: { origin: 'http://evil.example', cookie: `kvbench_session=4102444800.${'A'.repeat(43)}; token=${WRITE}`, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `workload_id=wl-0&system_label=pcie&model=m&token=${WRITE}`,
    });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error, 'UNAUTHORIZED');
  });

  it('rejects before reading the body: an unauthenticated bad body is 401, not 400', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/runs', payload: { nonsense: true } });
    assert.equal(res.statusCode, 401);
  });

  it('leaves reads open by default', async () => {
    assert.equal((await api.app.inject({ method: 'GET', url: '/runs' })).statusCode, 200);
    assert.equal((await api.app.inject({ method: 'GET', url: '/presets' })).statusCode, 200);
  });

  it('never logs a token', async () => {
    await create(auth(WRITE));
    await create(auth(READ));
    assert.ok(api.logs.lines.length > 0);
    for (const token of [WRITE, WRITE_FROM_FILE, READ]) assert.ok(!api.logs.text.includes(token), `log contains ${token}`);
  });

  it('redacts the Authorization header wherever something logs headers', () => {
    api.app.log.info({ req: { headers: { authorization: `Bearer ${WRITE}` } } }, 'request headers');
    api.app.log.info({ headers: { authorization: `Bearer ${WRITE}` } }, 'raw headers');
    assert.ok(!api.logs.text.includes(WRITE));
    const raw = api.logs.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'raw headers');
    assert.equal(raw.headers.authorization, '[redacted]');
  });

  it('does not warn about open access when tokens are configured', () => {
    assert.ok(!/no AUTH_TOKENS configured/.test(api.logs.text));
  });
});

describe('reads protected by READS_REQUIRE_AUTH', () => {
  const api = apiForSuite({ AUTH_TOKENS: WRITE, AUTH_READ_TOKENS: READ, READS_REQUIRE_AUTH: 'true' });

  it('401 on reads without a token, 200 with a read or write token', async () => {
    for (const url of ['/runs', '/presets', '/workloads/wl-0000000000000000', '/runs/run-x']) {
      assert.equal((await api.app.inject({ method: 'GET', url })).statusCode, 401, url);
    }
    assert.equal((await api.app.inject({ method: 'GET', url: '/runs', headers: auth(READ) })).statusCode, 200);
    assert.equal((await api.app.inject({ method: 'GET', url: '/runs', headers: auth(WRITE) })).statusCode, 200);
    assert.equal((await api.app.inject({ method: 'GET', url: '/runs', headers: auth('wrong') })).statusCode, 401);
  });

  it('keeps health and the API description public', async () => {
    assert.equal((await api.app.inject({ method: 'GET', url: '/health' })).statusCode, 200);
    assert.equal((await api.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 200);
    assert.equal((await api.app.inject({ method: 'GET', url: '/docs' })).statusCode, 200);
  });
});

describe('no token configured', () => {
  const api = apiForSuite();

  it('leaves writes open and warns at start', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/workloads', payload: { params: SMALL_PARAMS } });
    assert.equal(res.statusCode, 201);
    const warning = api.logs.lines.map((l) => JSON.parse(l)).find((l) => /no AUTH_TOKENS configured/.test(l.msg));
    assert.ok(warning, 'a warning about open access');
    assert.equal(warning.level, 40);
  });

  it('sends no CORS headers when CORS_ORIGINS is unset', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/runs', headers: { origin: 'http://evil.test' } });
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    const preflight = await api.app.inject({
      method: 'OPTIONS',
      url: '/runs',
      headers: { origin: 'http://evil.test', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
  });
});

describe('CORS_ORIGINS', () => {
  const api = apiForSuite({ CORS_ORIGINS: 'http://ui.test, http://other.test', AUTH_TOKENS: WRITE, READS_REQUIRE_AUTH: '1' });

  it('allows exactly the configured origins, preflight included', async () => {
    const preflight = await api.app.inject({
      method: 'OPTIONS',
      url: '/runs',
      headers: { origin: 'http://ui.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    assert.ok(preflight.statusCode < 300, String(preflight.statusCode));
    assert.equal(preflight.headers['access-control-allow-origin'], 'http://ui.test');
    const other = await api.app.inject({ method: 'GET', url: '/runs', headers: { origin: 'http://evil.test', ...auth(WRITE) } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const ok = await api.app.inject({ method: 'GET', url: '/runs', headers: { origin: 'http://other.test', ...auth(WRITE) } });
    assert.equal(ok.headers['access-control-allow-origin'], 'http://other.test');
  });
});

describe('configuration', () => {
  it('names the bad variable', () => {
    for (const [env, variable] of [
      [{ MAX_BODY_BYTES: 'lots' }, 'MAX_BODY_BYTES'],
      [{ PORT: '70000' }, 'PORT'],
      [{ READS_REQUIRE_AUTH: 'maybe' }, 'READS_REQUIRE_AUTH'],
      [{ READS_REQUIRE_AUTH: 'true' }, 'READS_REQUIRE_AUTH'],
      [{ AUTH_TOKENS_FILE: '/nonexistent/kvbench-tokens' }, 'AUTH_TOKENS_FILE'],
      [{ AGGREGATOR_URL: 'not a url' }, 'AGGREGATOR_URL'],
    ] as const) {
      assert.throws(() => loadApiConfig(env), (e: unknown) => e instanceof ConfigError && e.variable === variable, variable);
    }
  });

  it('has safe defaults', () => {
    const c = loadApiConfig({});
    assert.equal(c.limits.maxContextTokens, 131072);
    assert.deepEqual(c.corsOrigins, []);
    assert.equal(c.auth.readsRequireAuth, false);
    assert.equal(c.allowEngineLaunchCommand, false);
    assert.equal(c.host, '127.0.0.1');
  });
});

describe('TokenSet', () => {
  it('matches exactly, whatever the lengths', () => {
    const set = new TokenSet(['abc', 'a-much-longer-token']);
    assert.ok(set.has('abc'));
    assert.ok(set.has('a-much-longer-token'));
    for (const t of ['', 'ab', 'abcd', 'ABC', 'a-much-longer-toke', 'a-much-longer-token ']) assert.ok(!set.has(t), t);
    assert.ok(!new TokenSet([]).has(''));
  });
});
