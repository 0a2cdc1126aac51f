// Benchmark (issue 14): the scheduler's own pace, which open-loop arrivals make part of every
// measurement, and the cost of a large multi-turn workload.
// - Request-rate ceiling of runner's replayWorkload against a zero-delay engine (a child process
//   answering every completion at once with one token; 4-token prompts, 1-token outputs, an
//   open-loop schedule far above what it can send), with schedule lag = written (the body handed
//   to the socket) − scheduled, p50/p99, over 20,000 requests; beside a bare node:http loop
//   against the same engine in the same run (no schedule, the same concurrency): the ratio is
//   what the scheduler costs.
// - Generation time and peak RSS of a 64-session multi-turn workload whose last turns are 128K
//   tokens (child process of the real CLI), and the time to build the ids of its longest prompt.
// Run alone: node bench/scheduler.bench.mjs
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { timedCliRun } from './cli-child.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const N = 20000;
const CONCURRENCY = 64;

// The engine: answers /v1/completions with one text chunk, usage and [DONE], with no delay.
const ENGINE = `
const http = require('node:http');
const head = { 'content-type': 'text/event-stream' };
const chunk = 'data: {"id":"cmpl-0","choices":[{"index":0,"text":" x","finish_reason":"length"}]}\\n\\n';
http.createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  let n = 0;
  req.on('data', (d) => (n += d.length));
  req.on('end', () => {
    if (req.url !== '/v1/completions') { res.writeHead(404); return res.end(); }
    res.writeHead(200, head);
    res.end(chunk + 'data: {"id":"cmpl-0","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":1,"total_tokens":5}}\\n\\ndata: [DONE]\\n\\n');
  });
}).listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port) + '\\n'); });
`;

async function startEngine() {
  const child = spawn(process.execPath, ['-e', ENGINE], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('error', reject);
  });
  return { url: new URL(`http://127.0.0.1:${port}`), stop: () => child.kill() };
}

const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * q;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (i - lo);
};

/** A bare keep-alive loop: CONCURRENCY workers posting the same small body back to back. */
async function bareLoop(url, n) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const body = Buffer.from(JSON.stringify({ model: 'm', prompt: [1001, 1002, 1003, 1004], max_tokens: 1, stream: true }));
  let next = 0;
  const t0 = process.hrtime.bigint();
  const one = () => new Promise((resolve, reject) => {
    const r = http.request(new URL('/v1/completions', url), { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.on('data', () => {});
      res.on('end', resolve);
    });
    r.on('error', reject);
    r.end(body);
  });
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => { while (next++ < n) await one(); }));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  return n / s;
}

/** runner's streamCompletion alone, CONCURRENCY workers back to back: the per-request client cost without the scheduler. */
async function clientLoop(runner, url, n) {
  const agent = runner.createKeepAliveAgent(url, CONCURRENCY + 4);
  const body = Buffer.from(JSON.stringify({ model: 'm', prompt: [1001, 1002, 1003, 1004], max_tokens: 1, stream: true, stream_options: { include_usage: true } }));
  const target = new URL('/v1/completions', url);
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next++ < n) await runner.streamCompletion({ url: target, agent, body, timeoutMs: 30000 });
  }));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  agent.destroy();
  return n / s;
}

async function schedulerCeiling(runner, wl, url) {
  // Open loop at 200,000 requests/s (Poisson): far above what either side can do, so the
  // achieved rate is the ceiling and the lag shows where it saturates.
  const workload = wl.generateDocqa({ documents: N, document_tokens: 2, question_tokens: 2, rounds: 1, arrival: 'poisson', rate: 200000, max_concurrency: CONCURRENCY, answer_tokens: 1, seed: 1 });
  const job = { schema: 'kvbench.job', version: 1, run_id: 'bench', workload_id: 'bench', system_label: 'bench', model: 'm', engine: { kind: 'trtllm', options: {} },
    config_module: 'config_pcie', overrides: {}, max_batch_size: CONCURRENCY, max_seq_len: 4096, output_tokens: 1, temperature: 0, top_p: 1, notes: '', submitted_at: new Date().toISOString() };
  const agent = runner.createKeepAliveAgent(url, CONCURRENCY + 4);
  const lags = [];
  let failed = 0;
  let last = 0n;
  const runStart = process.hrtime.bigint();
  await runner.replayWorkload({
    workload, job, baseUrl: url, agent, requestTimeoutMs: 30000, timeScale: 1, runStart,
    onComplete: ({ outcome, scheduledAt }) => {
      if (!outcome.ok) failed++;
      if (outcome.sentAt !== null) lags.push(Number(outcome.sentAt - scheduledAt) / 1e6);
      if (outcome.endAt > last) last = outcome.endAt;
    },
  });
  agent.destroy();
  const s = Number(last - runStart) / 1e9;
  // And at an offered rate it can hold (a quarter of the ceiling): the lag a real open-loop run sees.
  const rate = Math.floor((N / s) / 4);
  const held = wl.generateDocqa({ documents: Math.min(N, rate * 2), document_tokens: 2, question_tokens: 2, rounds: 1, arrival: 'poisson', rate, max_concurrency: CONCURRENCY, answer_tokens: 1, seed: 2 });
  const agent2 = runner.createKeepAliveAgent(url, CONCURRENCY + 4);
  const heldLags = [];
  await runner.replayWorkload({
    workload: held, job, baseUrl: url, agent: agent2, requestTimeoutMs: 30000, timeScale: 1, runStart: process.hrtime.bigint(),
    onComplete: ({ outcome, scheduledAt }) => { if (outcome.sentAt !== null) heldLags.push(Number(outcome.sentAt - scheduledAt) / 1e6); },
  });
  agent2.destroy();
  return { rate: N / s, failed, lagP50: pct(lags, 0.5), lagP99: pct(lags, 0.99), heldRate: rate, heldN: held.requests.length, heldP50: pct(heldLags, 0.5), heldP99: pct(heldLags, 0.99) };
}

// 64 sessions; turn t is 2048 + 8192 + (t−1)·1024 + 512 tokens: turn 120 is 131,584 tokens.
const multiturnChild = (main, out) =>
  timedCliRun(main, ['workload', 'generate', '--kind', 'multiturn', '--sessions', '64', '--turns', '120',
    '--shared-prefix-tokens', '2048', '--session-context-tokens', '8192', '--turn-tokens', '512', '--answer-tokens', '512', '--active-sessions', '16'], out);

export async function run() {
  const runnerPath = join(root, 'libs/runner/dist/src/index.js');
  const wlPath = join(root, 'libs/workload/dist/src/index.js');
  const main = join(root, 'apps/cli/dist/src/main.js');
  for (const p of [runnerPath, wlPath, main]) if (!existsSync(p)) throw new Error(`${p} is missing: build first (pnpm exec tsc -b)`);
  const runner = await import(pathToFileURL(runnerPath).href);
  const wl = await import(pathToFileURL(wlPath).href);

  const engine = await startEngine();
  let sched;
  let bare;
  let client;
  try {
    await bareLoop(engine.url, 2000); // warm-up of both sides
    bare = await bareLoop(engine.url, N);
    client = await clientLoop(runner, engine.url, N);
    sched = await schedulerCeiling(runner, wl, engine.url);
  } finally {
    engine.stop();
  }

  const dir = await mkdtemp(join(tmpdir(), 'kvbench-mtbench-'));
  let mt;
  let idsMs;
  try {
    mt = await multiturnChild(main, join(dir, 'mt.json'));
    const doc = await wl.readAnyWorkloadFile(join(dir, 'mt.json'));
    const tokens = new wl.PromptTokens(doc);
    const longest = doc.prompts.reduce((a, p) => (p.tokens > a.tokens ? p : a));
    tokens.json(longest); // segments computed once
    const t0 = process.hrtime.bigint();
    const json = tokens.json(longest);
    idsMs = { ms: Number(process.hrtime.bigint() - t0) / 1e6, tokens: longest.tokens, bytes: json.length };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const B = 'scheduler';
  const M = 'multiturn workload';
  return [
    { bench: B, metric: 'request rate ceiling (zero-delay engine)', value: sched.rate, unit: 'req/s', target: '≥ 10000', pass: sched.rate >= 10000,
      notes: `${N} requests offered open-loop at 200k/s, ${CONCURRENCY} in flight, 4-token id prompts, 1-token outputs; ${sched.failed} failed; engine in a child process on the same cores` },
    { bench: B, metric: 'bare node:http loop, same engine', value: bare, unit: 'req/s', target: '', pass: null, notes: `${N} requests, ${CONCURRENCY} keep-alive workers, no schedule` },
    { bench: B, metric: "runner's streamCompletion loop, same engine", value: client, unit: 'req/s', target: '', pass: null,
      notes: 'the per-request client (SSE parsing, timing, usage) without the scheduler: what a request costs before scheduling' },
    { bench: B, metric: 'scheduler / bare loop', value: sched.rate / bare, unit: '×', target: '', pass: null },
    { bench: B, metric: 'scheduler / streamCompletion loop', value: sched.rate / client, unit: '×', target: '', pass: null, notes: "the scheduler's own share of the cost" },
    { bench: B, metric: 'schedule lag p50 at saturation', value: sched.lagP50, unit: 'ms', target: '', pass: null, notes: 'written − scheduled; at saturation requests queue for a slot, so this is the queue' },
    { bench: B, metric: 'schedule lag p99 at saturation', value: sched.lagP99, unit: 'ms', target: '', pass: null },
    { bench: B, metric: `schedule lag p50 at ${sched.heldRate} req/s`, value: sched.heldP50, unit: 'ms', target: '', pass: null, notes: `${sched.heldN} Poisson requests at a quarter of the measured ceiling` },
    { bench: B, metric: `schedule lag p99 at ${sched.heldRate} req/s`, value: sched.heldP99, unit: 'ms', target: '< 1', pass: sched.heldP99 < 1 },
    { bench: M, metric: '64 sessions × 120 turns (to 131,584 tokens): generation, CLI end to end', value: mt.seconds, unit: 's', target: '', pass: null,
      notes: `child process, node start to exit; ${(mt.bytes / 1e6).toFixed(2)} MB written; ${mt.line}` },
    { bench: M, metric: 'same: peak RSS', value: mt.rssBytes / 2 ** 20, unit: 'MiB', target: '', pass: null, notes: 'process.resourceUsage().maxRSS at exit' },
    { bench: M, metric: 'ids of the longest prompt as JSON (segments cached)', value: idsMs.ms, unit: 'ms', target: '', pass: null,
      notes: `${idsMs.tokens} tokens, ${(idsMs.bytes / 1e6).toFixed(2)} MB of JSON: what the runner builds before each release` },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    const v = Math.abs(r.value) < 10 ? r.value.toFixed(3) : r.value.toFixed(1);
    console.log(`${r.bench} / ${r.metric}: ${v} ${r.unit}${r.target ? ` (target ${r.target}: ${r.pass ? 'met' : 'MISSED'})` : ''}${r.notes ? `\n    ${r.notes}` : ''}`);
  }
}
