/** The HTTP surface: trtllm-serve's wire shapes, over real HTTP against the in-process server. */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { getEncoding } from 'js-tiktoken';
import { waitFor } from '@kvbench/testkit';
import { startSimServer, type SimServer } from '../src/server.js';
import { parseSimYaml } from '../src/config.js';
import { SIM_MAIN_PATH } from '../src/index.js';
import { silentLogger } from '@kvbench/common';

const YAML = parseSimYaml({
  kv_cache_config: { max_tokens: 8192, tokens_per_block: 64, host_cache_size: 2 ** 30, enable_block_reuse: true, event_buffer_max_size: 100000 },
  enable_iter_perf_stats: true,
  return_perf_metrics: true,
  perf_metrics_max_requests: 1000,
});
const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';
let encoder: ReturnType<typeof getEncoding> | undefined;
/** The reference encoder, built once (building it takes most of a second). */
const cl100k = () => (encoder ??= getEncoding('cl100k_base'));

function prompt(seed: number, words: number): string {
  const vocab = ['alpha', 'beta', 'gamma', 'delta', 'cache', 'offload', 'token', 'block', 'host', 'device'];
  return Array.from({ length: words }, (_, i) => vocab[(i * 7 + seed * 13 + ((i * seed) % 5)) % vocab.length]).join(' ') + ` seed${seed}`;
}

interface Chunk {
  at: bigint;
  data: string;
}

async function streamRequest(url: string, path: string, body: object): Promise<{ chunks: Chunk[]; status: number }> {
  const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const chunks: Chunk[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
    const at = process.hrtime.bigint();
    buf += decoder.decode(piece, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      assert.ok(ev.startsWith('data: '), `SSE event without data: ${ev}`);
      chunks.push({ at, data: ev.slice(6) });
    }
  }
  assert.equal(buf, '', 'stream ends on an event boundary');
  return { chunks, status: res.status };
}

async function getJson(url: string, path: string, method = 'GET'): Promise<any> {
  const res = await fetch(url + path, { method });
  assert.equal(res.status, 200, `${method} ${path}`);
  return res.json();
}

let sim: SimServer;
before(async () => {
  sim = await startSimServer({ model: MODEL, config: YAML, maxSeqLen: 16384, maxBatchSize: 8, seed: 3, logger: silentLogger });
});
after(async () => {
  await sim.close();
});

test('streaming completion: SSE chunks, [DONE], usage with cached_tokens, simulated labels', async () => {
  const text = prompt(1, 3000);
  const expectedTokens = cl100k().encode(text).length;
  const { chunks, status } = await streamRequest(sim.url, '/v1/completions', { model: MODEL, prompt: text, max_tokens: 5, stream: true, stream_options: { include_usage: true }, ignore_eos: true });
  assert.equal(status, 200);
  assert.equal(chunks.at(-1)!.data, '[DONE]');
  const objs = chunks.slice(0, -1).map((c) => JSON.parse(c.data));
  const textChunks = objs.filter((o) => o.choices.length > 0);
  assert.equal(textChunks.length, 5);
  for (const o of objs) {
    assert.equal(o.object, 'text_completion');
    assert.equal(o.engine, 'sim');
    assert.equal(o.simulated, true);
    assert.equal(o.profile, 'h100-pcie-gen5');
  }
  assert.deepEqual(textChunks.map((o) => o.choices[0].finish_reason), [null, null, null, null, 'length']);
  const u = objs.at(-1).usage;
  assert.equal(u.prompt_tokens, expectedTokens);
  assert.equal(u.completion_tokens, 5);
  assert.equal(u.total_tokens, expectedTokens + 5);
  assert.equal(u.prompt_tokens_details.cached_tokens, 0);
  // Generated words are single tokens: the client's count of the text equals completion_tokens.
  const generated = textChunks.map((o) => o.choices[0].text).join('');
  assert.equal(cl100k().encode(generated).length, 5);

  // The exact prompt again: every full block is reused.
  const again = await streamRequest(sim.url, '/v1/completions', { prompt: text, max_tokens: 5, stream: true, stream_options: { include_usage: true } });
  const u2 = JSON.parse(again.chunks.at(-2)!.data).usage;
  assert.equal(u2.prompt_tokens_details.cached_tokens, Math.min(Math.floor(expectedTokens / 64) * 64, expectedTokens - 1));
  // A prompt sharing a prefix reuses the shared full blocks only.
  const shared = text.slice(0, Math.floor(text.length / 2)) + ' a different ending entirely';
  const r3: any = await (await fetch(sim.url + '/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: shared, max_tokens: 1 }) })).json() as any;
  const sharedTokens = cl100k().encode(text.slice(0, Math.floor(text.length / 2))).length;
  assert.ok(r3.usage.prompt_tokens_details.cached_tokens > 0);
  assert.ok(r3.usage.prompt_tokens_details.cached_tokens <= sharedTokens);
  assert.equal(r3.usage.prompt_tokens_details.cached_tokens % 64, 0);
});

test('non-streaming completion and chat completions (streaming and not)', async () => {
  const r: any = await (await fetch(sim.url + '/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: 'hello there', max_tokens: 3 }) })).json();
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 3);
  assert.equal(r.simulated, true);

  const c: any = await (await fetch(sim.url + '/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }) })).json();
  assert.equal(c.object, 'chat.completion');
  assert.equal(c.choices[0].message.role, 'assistant');
  assert.equal(c.usage.completion_tokens, 2);

  const s = await streamRequest(sim.url, '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, stream: true });
  const objs = s.chunks.slice(0, -1).map((x) => JSON.parse(x.data));
  assert.equal(s.chunks.at(-1)!.data, '[DONE]');
  assert.deepEqual(objs[0].choices[0].delta, { role: 'assistant', content: '' });
  assert.equal(objs.filter((o) => o.choices[0]?.delta?.content).length, 2);
  assert.ok(objs.every((o) => o.object === 'chat.completion.chunk'));
});

test('/metrics is drained on read; /perf_metrics and /kv_cache_events too', async () => {
  await getJson(sim.url, '/metrics');
  await getJson(sim.url, '/perf_metrics');
  await getJson(sim.url, '/kv_cache_events', 'POST');
  await fetch(sim.url + '/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: prompt(9, 500), max_tokens: 3 }) }).then((r) => r.json());
  const stats = await getJson(sim.url, '/metrics');
  assert.ok(stats.length >= 3);
  const s = stats.at(-1);
  for (const k of ['maxNumBlocks', 'freeNumBlocks', 'usedNumBlocks', 'tokensPerBlock', 'allocTotalBlocks', 'allocNewBlocks', 'reusedBlocks', 'missedBlocks', 'cacheHitRate']) assert.equal(typeof s.kvCacheStats[k], 'number', k);
  const windows = Object.keys(s.kvCacheIterationStats);
  assert.deepEqual(windows, ['8192'], 'keyed by the (clamped) attention window');
  for (const k of ['iterOffloadBlocks', 'iterOffloadBytes', 'iterOnboardBlocks', 'iterOnboardBytes', 'secondaryMaxNumBlocks', 'secondaryUsedNumBlocks', 'iterReusedBlocks', 'iterMissedBlocks'])
    assert.equal(typeof s.kvCacheIterationStats['8192'][k], 'number', k);
  assert.equal(s.kvCacheStats.maxNumBlocks, 128);
  assert.equal(s.kvCacheIterationStats['8192'].secondaryMaxNumBlocks, 128, '1 GiB of host / 8 MiB blocks');
  assert.equal(s.engine, 'sim');
  assert.deepEqual(await getJson(sim.url, '/metrics'), []);

  const perf = await getJson(sim.url, '/perf_metrics');
  assert.equal(perf.length, 1);
  const tm = perf[0].perf_metrics.timing_metrics;
  assert.ok(tm.arrival_time <= tm.first_scheduled_time && tm.first_scheduled_time < tm.first_token_time && tm.first_token_time < tm.last_token_time);
  const kv = perf[0].perf_metrics.kv_cache_metrics;
  assert.equal(kv.num_total_allocated_blocks, kv.num_new_allocated_blocks + kv.num_reused_blocks);
  assert.deepEqual(await getJson(sim.url, '/perf_metrics'), []);

  const events = await getJson(sim.url, '/kv_cache_events', 'POST');
  const stored = events.filter((e: any) => e.data.type === 'stored');
  assert.ok(stored.length >= 1);
  assert.equal(stored[0].data.blocks[0].tokens.length, 64);
  assert.equal(stored[0].window_size, 8192);
  assert.deepEqual(await getJson(sim.url, '/kv_cache_events', 'POST'), []);
});

test('health, version, models; 404; 400 for bad bodies and prompts beyond max_seq_len', async () => {
  assert.equal((await fetch(sim.url + '/health')).status, 200);
  const v = await getJson(sim.url, '/version');
  assert.match(v.version, /kvbench-sim/);
  assert.equal(v.engine, 'sim');
  assert.equal(v.simulated, true);
  assert.equal(v.time_scale, 1);
  assert.equal(v.profile, 'h100-pcie-gen5');
  assert.equal(v.max_seq_len, 8192, 'clamped to the 8192-token pool');
  const m = await getJson(sim.url, '/v1/models');
  assert.equal(m.data[0].id, MODEL);
  assert.equal((await fetch(sim.url + '/nope')).status, 404);
  const bad = await fetch(sim.url + '/v1/completions', { method: 'POST', body: '{"max_tokens": 3}' });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as any).message, /prompt/);
  const long = await fetch(sim.url + '/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: prompt(2, 9000), max_tokens: 4 }) });
  assert.equal(long.status, 400);
  const body: any = await long.json();
  assert.equal(body.object, 'error');
  assert.match(body.message, /should not exceed max_seq_len \(8192\)/);
  assert.match(body.message, /reduced from 16384/);
});

test('streaming: the first chunk is sent no earlier than the modelled first-token time and read after it was sent', async () => {
  await getJson(sim.url, '/perf_metrics');
  await getJson(sim.url, '/metrics');
  const text = prompt(4, 6000);
  const sentAt = process.hrtime.bigint();
  const { chunks } = await streamRequest(sim.url, '/v1/completions', { prompt: text, max_tokens: 4, stream: true, stream_options: { include_usage: true } });
  const [entry] = await getJson(sim.url, '/perf_metrics');
  const tm = entry.perf_metrics.timing_metrics;
  const clientFirst = Number(chunks[0]!.at) / 1e9;
  const serverSent = entry.sim.first_token_sent_time;
  // The modelled TTFT is the profile's prefill time for this prompt (nothing cached, alone).
  const promptTokens = JSON.parse(chunks.at(-2)!.data).usage.prompt_tokens;
  assert.equal(entry.perf_metrics.kv_cache_metrics.num_reused_blocks, 0);
  const modelled = tm.first_token_time - tm.first_scheduled_time;
  // Its context iteration: compute is the prefill; transfers are the offloads its allocations caused.
  const ctxIter = (await getJson(sim.url, '/metrics')).find((it: any) => it.inflightBatchingStats.numCtxTokens === promptTokens);
  assert.ok(Math.abs(ctxIter.sim.computeS - sim.engine.timing.prefillSeconds(promptTokens)) < 1e-9);
  const offloaded = ctxIter.kvCacheIterationStats['8192'].iterOffloadBlocks;
  assert.ok(Math.abs(ctxIter.sim.transferS - sim.engine.timing.transferSeconds(0, offloaded)) < 1e-9);
  assert.ok(Math.abs(modelled - (ctxIter.sim.computeS + ctxIter.sim.transferS)) < 1e-6, `modelled TTFT ${modelled}`);
  // Never early: the token is not sent before its modelled time.
  assert.ok(serverSent >= tm.first_token_time - 1e-6, `sent ${serverSent} before due ${tm.first_token_time}`);
  assert.ok(clientFirst >= tm.first_token_time - 1e-6);
  // The client reads the chunk only after the server wrote it (one host, one CLOCK_MONOTONIC). How late
  // either is, is a real-clock figure: bench/sim-jitter.bench.mjs measures it, no test bounds it.
  assert.ok(clientFirst >= serverSent - 1e-6, `client saw it at ${clientFirst}, before the server sent it at ${serverSent}`);
  assert.ok(tm.arrival_time >= Number(sentAt) / 1e9 - 1e-6, 'timing is on the same steady clock as the client');
});

test('same seed gives the same output; another seed another', async () => {
  const body = JSON.stringify({ prompt: 'determinism please', max_tokens: 12 });
  const a = ((await (await fetch(sim.url + '/v1/completions', { method: 'POST', body })).json()) as any).choices[0].text;
  const b = ((await (await fetch(sim.url + '/v1/completions', { method: 'POST', body })).json()) as any).choices[0].text;
  assert.equal(a, b);
  const other = await startSimServer({ model: MODEL, config: YAML, seed: 4, logger: silentLogger, tokenizerWorker: false });
  try {
    const c = ((await (await fetch(other.url + '/v1/completions', { method: 'POST', body })).json()) as any).choices[0].text;
    assert.notEqual(c, a);
  } finally {
    await other.close();
  }
});

test('a client that goes away mid-stream frees its blocks', async () => {
  const ac = new AbortController();
  const res = await fetch(sim.url + '/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: prompt(7, 200), max_tokens: 2000, stream: true }), signal: ac.signal });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  ac.abort();
  await waitFor(() => sim.engine.numActive === 0 && sim.engine.numQueued === 0, { what: 'cancelled request to leave the engine' });
  assert.equal(sim.engine.blocks.gpuUsed, 0);
});

test('legacy metrics omit kvCacheIterationStats', async () => {
  const legacy = await startSimServer({ model: MODEL, config: YAML, legacyMetrics: true, logger: silentLogger, tokenizerWorker: false });
  try {
    await fetch(legacy.url + '/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: 'x y z', max_tokens: 2 }) }).then((r) => r.json());
    const stats = await getJson(legacy.url, '/metrics');
    assert.ok(stats.length > 0);
    for (const s of stats) {
      assert.equal('kvCacheIterationStats' in s, false);
      assert.equal(typeof s.kvCacheStats.reusedBlocks, 'number');
    }
  } finally {
    await legacy.close();
  }
});

test('the CLI on port 0 prints the address it listens on and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [SIM_MAIN_PATH, 'meta-llama/Llama-3-70B-Instruct', '--tp', '4', '--port', '0', '--host', '127.0.0.1', '--profile', 'gh200-c2c', '--time_scale', '0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  try {
    const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], { timeoutMs: 20_000, what: 'listening line' });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(url.endsWith(':0'), true);
    assert.equal((await fetch(url + '/health')).status, 200);
    const v = await getJson(url, '/version');
    assert.equal(v.profile, 'gh200-c2c');
    assert.equal(v.time_scale, 0.1);
    assert.equal(v.model_shape.tp, 4);
  } finally {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  }
});

test('time scale: each modelled second lasts time_scale real seconds', async () => {
  const scaled = await startSimServer({ model: MODEL, config: YAML, timeScale: 0.1, logger: silentLogger, tokenizerWorker: false });
  try {
    const text = prompt(11, 4000);
    const t0 = process.hrtime.bigint();
    const r: any = await (await fetch(scaled.url + '/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: text, max_tokens: 2 }) })).json();
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    const [entry] = (await (await fetch(scaled.url + '/perf_metrics')).json()) as any[];
    const tm = entry.perf_metrics.timing_metrics;
    const modelledTtft = scaled.engine.timing.prefillSeconds(r.usage.prompt_tokens);
    assert.ok(Math.abs(tm.first_token_time - tm.first_scheduled_time - 0.1 * modelledTtft) < 1e-6, 'steady-clock TTFT = 0.1 × modelled');
    assert.ok(elapsed >= 0.1 * modelledTtft, 'the answer does not come before its scaled time');
    assert.equal(r.time_scale, 0.1);
  } finally {
    await scaled.close();
  }
});
