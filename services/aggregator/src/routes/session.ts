import type { FastifyPluginAsync } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { stringifySetCookie } from 'cookie';
import type { LoginLimit } from '../config.js';
import { tokenMatches } from '../plugins/auth.js';
import { SESSION_COOKIE, SESSION_TTL_S, issueSession, safeNext } from '../session.js';

/**
 * /login and /logout: how a person opens the protected report and live pages in a browser
 * (session.ts says why the cookie is safe). The token travels once, in a POST body, never in a
 * URL, so it reaches neither the access log nor the browser history. Not part of the API document.
 */
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(next: string, failed: boolean): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>kvbench aggregator: sign in</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}input,button{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;margin:.4rem 0}.err{color:#b00020}</style></head>
<body><h1>kvbench aggregator</h1><p>This aggregator needs its read token (<code>kvbench up --token</code>, READ_TOKEN).
It is exchanged for a browser session of ${SESSION_TTL_S / 3600} hours (an HttpOnly, SameSite=Strict cookie); the token is not stored in the page or the URL.</p>
${failed ? '<p class="err" id="error">That token is not accepted.</p>' : ''}
<form method="post" action="/login"><input type="hidden" name="next" value="${escapeHtml(next)}">
<label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button></form></body></html>`;
}

const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

export interface SessionRoutesOptions {
  /** READ_TOKEN; undefined: reads are open and /login only redirects. */
  readToken: string | undefined;
  loginLimit: LoginLimit;
}

/** The error the errors plugin answers a refused sign-in with (429, Retry-After set by @fastify/rate-limit). */
function tooManyAttempts(retryAfterS: number): Error {
  return Object.assign(new Error(`too many sign-in attempts from this address: retry in ${retryAfterS} s`), { statusCode: 429, code: 'RATE_LIMITED' });
}

const sessionRoutes = ({ readToken, loginLimit }: SessionRoutesOptions): FastifyPluginAsync => async (app) => {
  // POST /login is the one place a token can be guessed by trying: attempts per client address are
  // counted before the body is read (the plugin's onRequest hook), successful ones too, so a person
  // signing in once never meets the limit and a guesser gets loginLimit.max tries per window.
  // global: false keeps the limit off every other route of this scope.
  await app.register(rateLimit, { global: false });
  // HTML forms post urlencoded; URLSearchParams is the platform's own parser.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get('/login', { schema: { hide: true } }, async (req, reply) => {
    const next = safeNext((req.query as Record<string, unknown>).next);
    if (readToken === undefined) return reply.redirect(next, 303);
    return reply.type('text/html; charset=utf-8').header('content-security-policy', CSP).send(loginPage(next, false));
  });

  app.post(
    '/login',
    {
      schema: { hide: true },
      config: {
        rateLimit: {
          max: loginLimit.max,
          timeWindow: loginLimit.windowMs,
          errorResponseBuilder: (_req, ctx) => tooManyAttempts(Math.ceil(ctx.ttl / 1000)),
          onExceeded: (req) => req.log.warn({ ip: req.ip }, 'sign-in attempts over the limit: answering 429'),
        },
      },
    },
    async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const next = safeNext(body.next);
      if (readToken === undefined) return reply.redirect(next, 303);
      if (typeof body.token !== 'string' || !tokenMatches(body.token.trim(), readToken)) {
        return reply.code(401).type('text/html; charset=utf-8').header('content-security-policy', CSP).send(loginPage(next, true));
      }
      const cookie = stringifySetCookie({
        name: SESSION_COOKIE,
        value: issueSession(readToken, Date.now()),
        httpOnly: true,
        sameSite: 'strict',
        path: '/',
        maxAge: SESSION_TTL_S,
        secure: req.protocol === 'https',
      });
      return reply.header('set-cookie', cookie).header('cache-control', 'no-store').redirect(next, 303);
    },
  );

  app.post('/logout', { schema: { hide: true } }, async (_req, reply) => {
    const cookie = stringifySetCookie({ name: SESSION_COOKIE, value: '', httpOnly: true, sameSite: 'strict', path: '/', maxAge: 0 });
    return reply.header('set-cookie', cookie).redirect('/login', 303);
  });
};
export default sessionRoutes;
