import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedCompletion {
  body: Record<string, any>;
  /** Raw request bytes, as the runner wrote them. */
  raw: Buffer;
  /** Arrival of the whole body / end of the engine's answer at the proxy (ms, monotonic). */
  arrivedMs: number;
  endedMs: number;
}

/**
 * A pass-through in front of a real engine (the simulator) that records what the runner sends to
 * /v1/completions: the wire is observed, the answers are the engine's. `tamperPromptTokens`
 * rewrites usage.prompt_tokens of the chosen requests, as an engine with another tokenizer would
 * count (usage is the OpenAI field trtllm-serve, vLLM and SGLang all stream; ENGINES.md).
 */
export async function startRecordingProxy(target: string, tamperPromptTokens: (n: number) => boolean = () => false) {
  const completions: RecordedCompletion[] = [];
  const t = () => Number(process.hrtime.bigint()) / 1e6;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const isCompletion = req.method === 'POST' && req.url === '/v1/completions';
      const rec: RecordedCompletion | null = isCompletion ? { body: JSON.parse(raw.toString()), raw, arrivedMs: t(), endedMs: NaN } : null;
      const n = rec ? completions.push(rec) - 1 : -1;
      const up = http.request(new URL(req.url!, target), { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (upRes) => {
        res.writeHead(upRes.statusCode!, upRes.headers);
        const tamper = rec !== null && tamperPromptTokens(n);
        upRes.on('data', (d: Buffer) => {
          res.write(tamper ? Buffer.from(d.toString().replace(/"prompt_tokens":(\d+)/g, (_m, v) => `"prompt_tokens":${Number(v) + 1}`)) : d);
        });
        upRes.on('end', () => {
          if (rec) rec.endedMs = t();
          res.end();
        });
      });
      up.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      up.end(raw);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    completions,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
