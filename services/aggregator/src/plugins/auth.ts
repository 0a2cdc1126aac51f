import fp from 'fastify-plugin';
import { createHash, timingSafeEqual } from 'node:crypto';

export interface AuthPluginOptions {
  /** Bearer token required on reads; undefined leaves them open. */
  readToken?: string | undefined;
}

/**
 * Routes that stay open with a token configured: liveness, and the API description and Swagger UI
 * (they hold no data; a person needs them to find the Authorize button).
 */
const OPEN_PATHS = [/^\/health$/, /^\/openapi\.json$/, /^\/docs(\/|$)/];

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
      if (!m) {
        reply.header('www-authenticate', 'Bearer');
        return reply.code(401).send({ error: 'UNAUTHORIZED', message: 'bearer token required' });
      }
      if (!tokenMatches(m[1]!.trim(), expected)) {
        return reply.code(403).send({ error: 'FORBIDDEN', message: 'token not accepted' });
      }
    });
  },
  { name: 'auth' },
);
