import { createHash, timingSafeEqual } from 'node:crypto';
import fp from 'fastify-plugin';
import { AuthError } from '@kvbench/common';
import type { AuthSettings } from '../config.js';

/** What a request needs: reads are GET/HEAD, everything else mutates. */
export type Access = 'read' | 'write';

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/**
 * A set of tokens checked in constant time: the presented token and every stored one are
 * compared as SHA-256 digests (equal length, as timingSafeEqual requires), and the loop never
 * exits early, so timing says nothing about which token or how much of it matched.
 */
export class TokenSet {
  private readonly digests: Buffer[];
  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }
  get size(): number {
    return this.digests.length;
  }
  has(token: string): boolean {
    const d = digest(token);
    let found = false;
    for (const stored of this.digests) found = timingSafeEqual(d, stored) || found;
    return found;
  }
}

export class Authorizer {
  private readonly write: TokenSet;
  private readonly read: TokenSet;
  constructor(private readonly settings: AuthSettings) {
    this.write = new TokenSet(settings.writeTokens);
    this.read = new TokenSet(settings.readTokens);
  }

  /** No token configured at all: mutating endpoints are open (the server warns at start). */
  get open(): boolean {
    return this.write.size + this.read.size === 0;
  }

  /** Throws AuthError (401 no/invalid token, 403 read-only token on a write) unless allowed. */
  check(access: Access, authorization: string | undefined): void {
    if (this.open) return;
    if (access === 'read' && !this.settings.readsRequireAuth) return;
    const token = bearerToken(authorization);
    if (token === undefined) throw new AuthError('missing bearer token (Authorization: Bearer <token>)', 401);
    const canWrite = this.write.has(token);
    const canRead = canWrite || this.read.has(token);
    if (!canRead) throw new AuthError('invalid bearer token', 401);
    if (access === 'write' && !canWrite) throw new AuthError('this token is read-only', 403);
  }
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

export function accessFor(method: string): Access | 'none' {
  if (method === 'OPTIONS') return 'none'; // CORS preflight carries no credentials
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

/** Paths anyone may read even when READS_REQUIRE_AUTH: liveness and the API description. */
const PUBLIC_PATHS = [/^\/health$/, /^\/openapi\.json$/, /^\/docs(\/|$)/];

export interface AuthPluginOptions {
  auth: AuthSettings;
}

/**
 * Every request passes the Authorizer before routing: writes need a write token, reads a read
 * token when READS_REQUIRE_AUTH. A missing or unknown token is 401; a read-only token on a write is 403.
 * Only the Authorization header counts, never a cookie: a browser attaches cookies to whatever a
 * foreign page makes it post, and writes here start runs (CSRF). The aggregator's cookie session
 * is safe because it is read-only; this service serves no page but /docs, whose Authorize button
 * sends the header.
 */
export default fp<AuthPluginOptions>(
  async (app, opts) => {
    const authorizer = new Authorizer(opts.auth);
    if (authorizer.open) {
      app.log.warn('no AUTH_TOKENS configured: anyone who can reach this server can create workloads and submit runs');
    }
    app.addHook('onRequest', async (req) => {
      const access = accessFor(req.method);
      if (access === 'none') return;
      const path = req.url.split('?')[0] ?? '';
      if (access === 'read' && PUBLIC_PATHS.some((p) => p.test(path))) return;
      authorizer.check(access, req.headers.authorization);
    });
  },
  { name: 'auth' },
);
