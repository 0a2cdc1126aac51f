import { createServer, connect as tcpConnect } from 'node:net';

/**
 * How long a local process may take to become ready before it is called hung. Long on purpose: a
 * process that dies is reported at once (its exit is watched), so this only names one that neither
 * answers nor exits, and a loaded machine (a laptop, a CI runner) can take far longer than a quiet
 * one to start a service: 30 s once failed a stack's start at load 33 on 2 cores.
 */
export const READY_TIMEOUT_MS = 300_000;

/** Polls `check` until it returns something truthy, or throws after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ port, host }, () => {
      s.end();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

/** Whether this process could listen on host:port right now. */
export function canListen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** `preferred` when it is free, else the next free port above it (up to `span` tried). */
export async function preferredOrNextFreePort(preferred: number, host = '127.0.0.1', span = 100): Promise<number> {
  for (let p = preferred; p < preferred + span && p <= 65535; p++) {
    if (await canListen(p, host)) return p;
  }
  throw new Error(`no free port in ${preferred}..${preferred + span - 1} on ${host}`);
}
