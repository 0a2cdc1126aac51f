/**
 * Refused early, each with one clear message, before a run of failed samples: max_seq_len below
 * the largest prompt + output_tokens (TensorRT-LLM would clamp outputs silently), an attached
 * vLLM whose served model name differs, an attached SGLang without --enable-metrics (ENGINES.md).
 */
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EngineError, ValidationError } from '@kvbench/common';
import { runBenchmark } from '@kvbench/runner';
import { collector, engineEnv, FIXTURES, installFakeTrtllmServe, makeJob, tempDir, tinyWorkload } from './helpers.js';

let dir: { path: string; cleanup(): Promise<void> };
before(async () => {
  dir = await tempDir();
  await installFakeTrtllmServe(dir.path, join(FIXTURES, 'trtllm-serve-double.mjs'));
});
after(() => dir.cleanup());

async function refused(job: ReturnType<typeof makeJob>, extraEnv: Record<string, string> = {}) {
  const c = collector();
  const err = await runBenchmark({
    job, workload: tinyWorkload(), attempt: 1, emit: c.emit, log: c.log,
    agent: { workDir: dir.path, engineEnv: engineEnv(dir.path, extraEnv), collectEnvironment: false, engineStartupTimeoutMs: 5_000 },
  }).then(() => assert.fail('the run should have been refused'), (e: unknown) => e);
  // A refusal keeps its kind (ValidationError naming the field, or the engine's own answer as EngineError).
  assert.ok(err instanceof ValidationError || err instanceof EngineError, String(err));
  assert.equal(c.events.filter((e) => e.type === 'failed').length, 1);
  assert.equal(c.events.some((e) => e.type === 'sample'), false, 'refused before any request');
  return err;
}

/** A real HTTP server answering like an attached OpenAI-compatible engine. */
async function engineDouble(routes: Record<string, (res: http.ServerResponse) => void>): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    const h = routes[`${req.method} ${new URL(req.url!, 'http://x').pathname}`];
    if (h) h(res);
    else res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
}
const json = (body: unknown) => (res: http.ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));

test('max_seq_len below the largest prompt + output_tokens: refused before the engine is launched, with the length to give', async () => {
  const truth = join(dir.path, 'truth-refused.json');
  // tinyWorkload: 64-token prompts; 64 + 4 output tokens need 68.
  const err = await refused(makeJob({ engine: { kind: 'trtllm', options: {} }, max_seq_len: 66, output_tokens: 4 }), { FAKE_TRUTH: truth, FAKE_TRTLLM_VERSION: '1.3.0' });
  assert.ok(err instanceof ValidationError && err.field === 'max_seq_len', `a refusal, not an engine failure: ${String(err)}`);
  assert.match(err.message, /max_seq_len 66 is below the workload's largest prompt \(64 tokens\) \+ output_tokens \(4\) = 68.*cut those outputs short.*--max_seq_len 68/);
  await assert.rejects(access(truth), 'no engine was started');
});

test('vLLM serving another model name: refused, naming the served name from /v1/models', async () => {
  const vllm = await engineDouble({
    'GET /health': (res) => res.writeHead(200).end(),
    'GET /version': json({ version: '0.11.0' }),
    // vLLM's /v1/models lists --served-model-name, owned_by "vllm" (ENGINES.md, vLLM).
    'GET /v1/models': json({ object: 'list', data: [{ id: 'llama-8b', object: 'model', owned_by: 'vllm', root: '/models/llama' }] }),
    'GET /metrics': (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('# TYPE vllm:prefix_cache_queries_total counter\nvllm:prefix_cache_queries_total{engine="0"} 0\n'),
  });
  try {
    const err = await refused(makeJob({ engine: { kind: 'openai', url: vllm.url, options: {} } }));
    assert.match(err.message, /serves "llama-8b".*refuses requests for any other model name.*asks for "meta-llama\/Llama-3\.1-8B-Instruct".*--model llama-8b/);
  } finally {
    vllm.close();
  }
});

test('SGLang without --enable-metrics: refused with the flag to add', async () => {
  const sglang = await engineDouble({
    'GET /health': (res) => res.writeHead(200).end(),
    'GET /v1/models': json({ object: 'list', data: [{ id: 'meta-llama/Llama-3.1-8B-Instruct', object: 'model', owned_by: 'sglang' }] }),
    // ENGINES.md, SGLang: /metrics needs --enable-metrics (404 without it).
  });
  try {
    const err = await refused(makeJob({ engine: { kind: 'openai', url: sglang.url, options: {} } }));
    assert.match(err.message, /SGLang server at .* serves no Prometheus \/metrics \(HTTP 404\).*--enable-metrics/);
  } finally {
    sglang.close();
  }
});
