import type { FastifyPluginAsync } from 'fastify';
import { stringifySetCookie } from 'cookie';
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

const sessionRoutes = (readToken: string | undefined): FastifyPluginAsync => async (app) => {
  // HTML forms post urlencoded; URLSearchParams is the platform's own parser.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get('/login', { schema: { hide: true } }, async (req, reply) => {
    const next = safeNext((req.query as Record<string, unknown>).next);
    if (readToken === undefined) return reply.redirect(next, 303);
    return reply.type('text/html; charset=utf-8').header('content-security-policy', CSP).send(loginPage(next, false));
  });

  app.post('/login', { schema: { hide: true } }, async (req, reply) => {
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
  });

  app.post('/logout', { schema: { hide: true } }, async (_req, reply) => {
    const cookie = stringifySetCookie({ name: SESSION_COOKIE, value: '', httpOnly: true, sameSite: 'strict', path: '/', maxAge: 0 });
    return reply.header('set-cookie', cookie).redirect('/login', 303);
  });
};
export default sessionRoutes;
