import fp from 'fastify-plugin';
import { createHash, timingSafeEqual } from 'node:crypto';
import { parseCookie } from 'cookie';
import { SESSION_COOKIE, sessionValid } from '../session.js';

export interface AuthPluginOptions {
  /** Bearer token required on reads; undefined leaves them open. */
  readToken?: string | undefined;
}

/**
 * Routes that stay open with a token configured: liveness, and the API description and Swagger UI
 * (they hold no data; a person needs them to find the Authorize button).
 */
const OPEN_PATHS = [/^\/health$/, /^\/openapi\.json$/, /^\/docs(\/|$)/, /^\/login$/, /^\/logout$/];

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison: hashing first makes both sides the same length. */
export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export default fp<AuthPluginOptions>(
  async (app, opts) => {
    const expected = opts.readToken;
    if (expected === undefined) return;
    app.addHook('onRequest', async (req, reply) => {
      if (req.method === 'OPTIONS' || OPEN_PATHS.some((p) => p.test(req.url.split('?')[0]!))) return;
      const header = req.headers.authorization ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(header);
      // A missing and a wrong token are the same answer (401, as the workload-api gives): the
      // client lacks valid credentials either way; 403 is for a valid token without the right.
      // A browser session (session.ts) reads, nothing more: GET/HEAD only, the cookie SameSite=Strict.
      if (!m && (req.method === 'GET' || req.method === 'HEAD')) {
        if (sessionValid(parseCookie(req.headers.cookie ?? '')[SESSION_COOKIE], expected, Date.now())) return;
        // A person opening a report or live page: to the login form, then back here.
        if (/text\/html/.test(req.headers.accept ?? '')) return reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
      }
      if (!m || !tokenMatches(m[1]!.trim(), expected)) {
        reply.header('www-authenticate', 'Bearer realm="kvbench"');
        return reply.code(401).send({ error: 'UNAUTHORIZED', message: m ? 'invalid bearer token' : 'bearer token required' });
      }
    });
  },
  { name: 'auth' },
);
