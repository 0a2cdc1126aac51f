import fp from 'fastify-plugin';
import { createHash, timingSafeEqual } from 'node:crypto';

export interface AuthPluginOptions {
  /** Bearer token required on reads; undefined leaves them open. */
  readToken?: string | undefined;
}

/** Routes that stay open with a token configured: liveness probes carry no secrets. */
const OPEN_PATHS = new Set(['/health']);

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
      if (req.method === 'OPTIONS' || OPEN_PATHS.has(req.url.split('?')[0]!)) return;
      const header = req.headers.authorization ?? '';
      const m = /^Bearer\s+(.+)$/i.exec(header);
      // A missing and a wrong token are the same answer (401, as the workload-api gives): the
      // client lacks valid credentials either way; 403 is for a valid token without the right.
      if (!m || !tokenMatches(m[1]!.trim(), expected)) {
        reply.header('www-authenticate', 'Bearer realm="kvbench"');
        return reply.code(401).send({ error: 'UNAUTHORIZED', message: m ? 'invalid bearer token' : 'bearer token required' });
      }
    });
  },
  { name: 'auth' },
);
