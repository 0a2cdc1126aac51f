import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from '@kvbench/testkit';
import { buildApp } from '../src/app.js';
import { loadAggregatorConfig } from '../src/config.js';

let dir: { path: string; cleanup: () => Promise<void> };
before(async () => {
  dir = await tempDir('kvbench-agg-login-');
});
after(async () => {
  await dir.cleanup();
});

const TOKEN = 'right-token-7f3a';
const form = (token: string) => `token=${encodeURIComponent(token)}&next=%2Fdocs`;
const login = (app: Awaited<ReturnType<typeof buildApp>>, token: string, remoteAddress = '192.0.2.10') =>
  app.inject({ method: 'POST', url: '/login', remoteAddress, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form(token) });

test('POST /login: after LOGIN_MAX_ATTEMPTS from one address, 429 with Retry-After, even for the right token', async () => {
  const lines: string[] = [];
  // An hour-long window: every attempt below falls inside it however slow the machine is.
  const config = loadAggregatorConfig({ DB_PATH: join(dir.path, 'login.sqlite'), READ_TOKEN: TOKEN, LOGIN_MAX_ATTEMPTS: '3', LOGIN_WINDOW_MS: '3600000' });
  const app = await buildApp(config, { ingest: false, logger: { level: 'info', stream: { write: (s: string) => void lines.push(s) } } });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await login(app, `guess-${i}`)).statusCode, 401, `attempt ${i + 1}`);
    const refused = await login(app, TOKEN);
    assert.equal(refused.statusCode, 429, refused.body);
    const retryAfter = Number(refused.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 3600, `Retry-After ${refused.headers['retry-after']}`);
    assert.equal(refused.json().error, 'RATE_LIMITED');
    assert.match(refused.json().message, /too many sign-in attempts.*retry in \d+ s/);
    assert.equal(refused.headers['set-cookie'], undefined, 'no session for a refused attempt');

    // Per address: another client still signs in; the limit is on POST /login only.
    const other = await login(app, TOKEN, '198.51.100.7');
    assert.equal(other.statusCode, 303);
    assert.match(String(other.headers['set-cookie']), /^kvbench_session=/);
    assert.equal((await app.inject({ url: '/login', remoteAddress: '192.0.2.10' })).statusCode, 200);
    assert.equal((await app.inject({ url: '/health', remoteAddress: '192.0.2.10' })).statusCode, 200);

    const text = lines.join('');
    assert.match(text, /sign-in attempts over the limit/);
    assert.ok(!text.includes(TOKEN), 'the token is in no log line');
  } finally {
    await app.close();
  }
});

test('LOGIN_MAX_ATTEMPTS and LOGIN_WINDOW_MS are checked at start', () => {
  assert.deepEqual(loadAggregatorConfig({}).loginLimit, { max: 10, windowMs: 60_000 });
  assert.throws(() => loadAggregatorConfig({ LOGIN_MAX_ATTEMPTS: '0' }), /LOGIN_MAX_ATTEMPTS/);
  assert.throws(() => loadAggregatorConfig({ LOGIN_WINDOW_MS: 'soon' }), /LOGIN_WINDOW_MS/);
});
