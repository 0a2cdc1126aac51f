/**
 * Token-id prompts (`prompt: [ids]`, which trtllm-serve, vLLM and SGLang all accept on
 * /v1/completions, ENGINES.md "accepts prompt as … a list of token ids"): counted as sent, and
 * blocks hashed by the ids, so a shared id prefix is reused block for block.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@kvbench/common';
import { startSimServer, type SimServer } from '../src/server.js';
import { parseSimYaml } from '../src/config.js';
import { tokens } from './helpers.js';

let sim: SimServer;
before(async () => {
  const config = parseSimYaml({
    kv_cache_config: { max_tokens: 8192, tokens_per_block: 64, host_cache_size: 2 ** 30, enable_block_reuse: true },
    enable_iter_perf_stats: true,
  });
  sim = await startSimServer({ model: 'meta-llama/Llama-3.1-8B-Instruct', config, maxSeqLen: 8192, maxBatchSize: 4, seed: 1, logger: silentLogger });
});
after(() => sim.close());

async function complete(prompt: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(sim.url + '/v1/completions', { method: 'POST', body: JSON.stringify({ prompt, max_tokens: 2 }) });
  return { status: res.status, body: await res.json() };
}

test('token ids: prompt_tokens is the number of ids sent; a shared id prefix is reused in whole blocks', async () => {
  const a = Array.from(tokens(7, 1000));
  const first = await complete(a);
  assert.equal(first.status, 200);
  assert.equal(first.body.usage.prompt_tokens, 1000);
  assert.equal(first.body.usage.prompt_tokens_details.cached_tokens, 0);
  // The same 1000 ids plus 300 more: the 15 full blocks of the first prompt are found by their ids.
  const longer = [...a, ...tokens(8, 300)];
  const second = await complete(longer);
  assert.equal(second.body.usage.prompt_tokens, 1300);
  assert.equal(second.body.usage.prompt_tokens_details.cached_tokens, Math.floor(1000 / 64) * 64);
  // One id changed in the first block: nothing is shared (the hash chain starts there).
  const changed = [...longer];
  changed[3] = changed[3]! + 1;
  const third = await complete(changed);
  assert.equal(third.body.usage.prompt_tokens_details.cached_tokens, 0);
});

test('token ids: an id beyond 32 bits or a negative id is a 400 naming the prompt', async () => {
  for (const bad of [[1, 2, 2 ** 32], [1, -1]]) {
    const r = await complete(bad);
    assert.equal(r.status, 400);
    assert.match(r.body.message, /prompt/);
  }
});
