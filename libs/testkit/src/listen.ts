import type { AddressInfo } from 'node:net';

/** What `listenOnLoopback` needs of a fastify app (testkit does not depend on fastify). */
export interface ListeningApp {
  listen(opts: { port: number; host: string }): Promise<unknown>;
  server: { address(): AddressInfo | string | null };
}

/**
 * Listens on a free port of 127.0.0.1 and answers the base URL (`http://127.0.0.1:<port>`): for tests
 * that reach an in-process app over real HTTP (a browser, an SSE reader) instead of `app.inject`.
 */
export async function listenOnLoopback(app: ListeningApp): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}
