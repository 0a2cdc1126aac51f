/**
 * A stand-in for trtllm-serve whose per-request timings are known, for the TTFT breakdown test.
 * It speaks TensorRT-LLM's wire format as ENGINES.md describes it for builds with GET /perf_metrics
 * (PR #6985): SSE completions whose chunk ids are `cmpl-<request id>`, per-request
 * `timing_metrics` (arrival_time, first_scheduled_time, first_token_time, last_token_time, steady-clock
 * seconds) and `kv_cache_metrics`, and GET /steady_clock_offset answering {receive_ts, transmit_ts} on
 * that same clock. Its steady clock is deliberately shifted from this host's CLOCK_MONOTONIC, as a
 * remote engine's would be, so only /steady_clock_offset can relate the two.
 *
 * Each request: body received → `tokenizeMs` (the HTTP server's work before the executor sees it) →
 * arrival → `queueMs` → first scheduled → `prefillMs` → first token → one token per ms. Requests run
 * one at a time in the executor (later arrivals queue behind). GET /test/truth (not a TensorRT-LLM
 * endpoint) gives what really happened, on this host's unshifted clock.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TimedEngineOptions {
  shiftS: number;
  tokenizeMs: number;
  queueMs: number;
  prefillMs: number;
  tokensPerBlock: number;
  /** Reused blocks reported per request. */
  reusedBlocks: number;
}

export interface Truth {
  id: number;
  received: number;
  arrival: number;
  scheduled: number;
  firstToken: number;
  firstTokenWritten: number;
}

const mono = () => Number(process.hrtime.bigint()) / 1e9;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startTimedEngine(o: TimedEngineOptions): Promise<{ url: string; truth: Map<number, Truth>; close(): Promise<void> }> {
  const steady = (raw: number) => raw + o.shiftS;
  const truth = new Map<number, Truth>();
  let perf: unknown[] = [];
  let nextId = 100;
  let executor: Promise<void> = Promise.resolve();

  // TCP_NODELAY, as uvicorn sets it for trtllm-serve: a streamed token is not held back by Nagle.
  const server: Server = createServer({ noDelay: true }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (v: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    if (path === '/health') return void res.writeHead(200).end();
    if (path === '/version') return json({ version: '1.1.0-timed-test-double' });
    if (path === '/steady_clock_offset') {
      const receive_ts = steady(mono());
      return json({ receive_ts, transmit_ts: steady(mono()) });
    }
    if (path === '/metrics') return json([]);
    if (path === '/kv_cache_events') return void req.resume().on('end', () => json([]));
    if (path === '/perf_metrics') {
      const out = perf;
      perf = [];
      return json(out);
    }
    if (path === '/test/truth') return json([...truth.values()]);
    if (path !== '/v1/completions') return void res.writeHead(404).end();
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', async () => {
      const received = mono();
      const { max_tokens } = JSON.parse(body) as { max_tokens: number };
      const id = nextId++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      await sleep(o.tokenizeMs);
      const arrival = mono();
      // One request at a time in the executor: each waits for the one before, then its own queue delay.
      const turn = executor.then(async () => {
        await sleep(o.queueMs);
        const scheduled = mono();
        await sleep(o.prefillMs);
        const firstToken = mono();
        const chunk = (i: number) => `data: ${JSON.stringify({ id: `cmpl-${id}`, object: 'text_completion', choices: [{ index: 0, text: ` t${i}`, finish_reason: null }] })}\n\n`;
        res.write(chunk(0));
        const firstTokenWritten = mono();
        for (let i = 1; i < max_tokens; i++) {
          await sleep(1);
          res.write(chunk(i));
        }
        const last = mono();
        res.write(`data: ${JSON.stringify({ id: `cmpl-${id}`, choices: [], usage: { prompt_tokens: 64, completion_tokens: max_tokens } })}\n\n`);
        res.end('data: [DONE]\n\n');
        truth.set(id, { id, received, arrival, scheduled, firstToken, firstTokenWritten });
        perf.push({
          request_id: id,
          perf_metrics: {
            first_iter: 0,
            last_iter: max_tokens,
            timing_metrics: { arrival_time: steady(arrival), first_scheduled_time: steady(scheduled), first_token_time: steady(firstToken), last_token_time: steady(last) },
            kv_cache_metrics: { num_total_allocated_blocks: 2, num_new_allocated_blocks: 2 - o.reusedBlocks, num_reused_blocks: o.reusedBlocks, num_missed_blocks: 1 - Math.min(o.reusedBlocks, 1) },
          },
        });
      });
      executor = turn;
      await turn;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    truth,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
