import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Browser sessions on a protected aggregator (READ_TOKEN). A person exchanges the token once, on
 * /login, for a cookie that is:
 * - HttpOnly: no script (and so no injected script) can read it;
 * - SameSite=Strict: the browser never sends it with a request started by another site, so a
 *   foreign page cannot make the browser read data with it (CSRF); and the aggregator is read-only:
 *   the cookie is accepted on GET/HEAD only, never for anything that changes state;
 * - stateless and short-lived: `<expiry>.<HMAC-SHA256(token, expiry)>`, so changing READ_TOKEN ends
 *   every session, and nothing about the token itself is in the cookie or any URL (nor in a log line).
 */

export const SESSION_COOKIE = 'kvbench_session';
/** Eight hours: a working day at the report, then the token again. */
export const SESSION_TTL_S = 8 * 3600;

function mac(token: string, expiry: number): string {
  return createHmac('sha256', token).update(`kvbench-session:${expiry}`).digest('base64url');
}

export function issueSession(token: string, nowMs: number, ttlS = SESSION_TTL_S): string {
  const expiry = Math.floor(nowMs / 1000) + ttlS;
  return `${expiry}.${mac(token, expiry)}`;
}

export function sessionValid(value: string | undefined, token: string, nowMs: number): boolean {
  if (!value) return false;
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return false;
  const expiry = Number(m[1]);
  if (expiry * 1000 <= nowMs) return false;
  const expected = Buffer.from(mac(token, expiry));
  const given = Buffer.from(m[2]!);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Only a path on this server may follow a login (no open redirect to another site). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\s]*$/.test(next) ? next : '/docs';
}
