import assert from 'node:assert/strict';
import { test } from 'node:test';
import { issueSession, safeNext, sessionValid } from '../src/session.js';

test('a session is valid for its token until it expires, and only as issued', () => {
  const now = 1_800_000_000_000;
  const s = issueSession('tok', now, 60);
  assert.equal(sessionValid(s, 'tok', now), true);
  assert.equal(sessionValid(s, 'tok', now + 59_000), true);
  assert.equal(sessionValid(s, 'tok', now + 60_000), false, 'expired');
  assert.equal(sessionValid(s, 'other-token', now), false, 'a changed READ_TOKEN ends every session');
  const [expiry, mac] = s.split('.');
  assert.equal(sessionValid(`${Number(expiry) + 3600}.${mac}`, 'tok', now), false, 'a longer expiry is not forgeable');
  assert.equal(sessionValid(undefined, 'tok', now), false);
  assert.equal(sessionValid('garbage', 'tok', now), false);
});

test('after login only a path on this server is followed', () => {
  assert.equal(safeNext('/compare.html?workload_id=w'), '/compare.html?workload_id=w');
  assert.equal(safeNext('/runs/r/live'), '/runs/r/live');
  for (const bad of ['//evil.example/x', '/\\\\evil.example', 'https://evil.example/', 'javascript:alert(1)', 42, undefined]) {
    assert.equal(safeNext(bad), '/docs', String(bad));
  }
});
