/**
 * Small HTTP helpers over node:http with one keep-alive agent per run, so
 * concurrent streams reuse warm sockets (no connect time inside TTFT) and the
 * pool is never smaller than the number of requests in flight.
 */
import http from 'node:http';
import https from 'node:https';

export type AnyAgent = http.Agent | https.Agent;

export function createKeepAliveAgent(url: URL, maxSockets: number): AnyAgent {
  const opts = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' as const };
  return url.protocol === 'https:' ? new https.Agent(opts) : new http.Agent(opts);
}

export interface HttpResponse {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export class HttpTimeoutError extends Error {
  constructor(readonly url: string, readonly timeoutMs: number) {
    super(`no answer from ${url} within ${timeoutMs} ms`);
  }
}

/** One small request whose whole body is read (statistics, health, version). */
export function httpRequest(
  url: string | URL,
  opts: { method?: string; body?: string | Buffer; timeoutMs?: number; agent?: AnyAgent; maxBytes?: number; signal?: AbortSignal } = {},
): Promise<HttpResponse> {
  const u = typeof url === 'string' ? new URL(url) : url;
  const mod = u.protocol === 'https:' ? https : http;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
  return new Promise<HttpResponse>((resolve, reject) => {
    const headers: Record<string, string | number> = { accept: 'application/json, text/plain, */*' };
    if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(opts.body);
    }
    const req = mod.request(u, { method: opts.method ?? 'GET', headers, agent: opts.agent, signal: opts.signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          req.destroy(new Error(`response from ${u.href} larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new HttpTimeoutError(u.href, timeoutMs)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** GET/POST returning parsed JSON; throws with status and a body excerpt on non-2xx. */
export async function httpJson<T = unknown>(url: string | URL, opts: Parameters<typeof httpRequest>[1] = {}): Promise<T> {
  const res = await httpRequest(url, opts);
  if (res.status < 200 || res.status >= 300) {
    throw new HttpStatusError(String(url), res.status, res.body.slice(0, 500));
  }
  try {
    return JSON.parse(res.body) as T;
  } catch (err) {
    throw new Error(`${String(url)} answered ${res.status} with a body that is not JSON: ${res.body.slice(0, 200)}`, { cause: err });
  }
}

export class HttpStatusError extends Error {
  constructor(readonly url: string, readonly status: number, readonly bodyExcerpt: string) {
    super(`${url} answered HTTP ${status}${bodyExcerpt ? `: ${bodyExcerpt}` : ''}`);
  }
}
