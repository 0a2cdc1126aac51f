/** SSE parsing, the engine config file, nvidia-smi parsing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { resolveKvConfig } from '@kvbench/common';
import { chunkedPrefillFor, completionBody, parseNvidiaSmiCsv, SseParser, trtllmConfig, trtllmConfigYaml } from '@kvbench/runner';
import { fixtureText, makeJob } from './helpers.js';

test('SSE: the same events whatever the chunking (every split point, LF / CRLF / CR)', () => {
  const base = ': keep-alive\n\ndata: {"a":1}\n\nevent: x\ndata: line1\ndata: line2\n\ndata:nospace\n\ndata: [DONE]\n\n';
  const expected = ['{"a":1}', 'line1\nline2', 'nospace', '[DONE]'];
  for (const eol of ['\n', '\r\n', '\r']) {
    const text = Buffer.from(base.replace(/\n/g, eol));
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new SseParser();
      const got = [...p.push(text.subarray(0, cut)), ...p.push(text.subarray(cut)), ...p.end()];
      assert.deepEqual(got, expected, `eol ${JSON.stringify(eol)}, split at ${cut}`);
    }
  }
});

test('SSE: multi-byte UTF-8 split across chunks, and an event delivered as soon as its blank line arrives', () => {
  const text = Buffer.from('data: héllo 世界\n\ndata: two\n\n');
  const p = new SseParser();
  const first = p.push(text.subarray(0, 9)); // cuts inside "é"
  assert.deepEqual(first, []);
  assert.deepEqual(p.push(text.subarray(9, 22)), ['héllo 世界']);
  assert.deepEqual(p.push(text.subarray(22)), ['two']);
});

test('engine config: TensorRT-LLM keys and units (host_cache_size in bytes = GiB × 1024³)', () => {
  const kv = resolveKvConfig('config_c2c', { host_cache_gb: 1.5 });
  const cfg = trtllmConfig(kv, { perfMetricsMaxRequests: 2048, eventBufferMaxSize: 1000 });
  const back = parseYaml(trtllmConfigYaml(cfg));
  assert.deepEqual(back, {
    kv_cache_config: { enable_block_reuse: true, max_tokens: 2048, tokens_per_block: 64, host_cache_size: 1.5 * 1024 ** 3, event_buffer_max_size: 1000 },
    enable_iter_perf_stats: true,
    return_perf_metrics: true,
    perf_metrics_max_requests: 2048,
  });
});

test('request body: max_tokens is output_tokens, never max_seq_len; streaming with usage, ignore_eos', () => {
  const job = makeJob({ output_tokens: 7, max_seq_len: 131072, temperature: 0.5, top_p: 0.9 });
  const body = JSON.parse(completionBody(job, { id: 'p', context_tokens: 3, tokens: 3, text: 'a b c' }).toString());
  assert.deepEqual(body, {
    model: job.model, prompt: 'a b c', max_tokens: 7, stream: true, stream_options: { include_usage: true }, ignore_eos: true, temperature: 0.5, top_p: 0.9,
  });
});

test('nvidia-smi CSV: names, driver, PCIe link gen/width; [N/A] (e.g. GH200 C2C) becomes null, not a guess', async () => {
  const gpus = parseNvidiaSmiCsv(await fixtureText('nvidia-smi.csv'));
  assert.deepEqual(gpus[0], {
    index: 0, name: 'NVIDIA H100 PCIe', driver_version: '550.54.15', memory_total_mib: 81559,
    pcie_link_gen_current: 5, pcie_link_gen_max: 5, pcie_link_width_current: 16, pcie_link_width_max: 16,
  });
  assert.equal(gpus[1]!.name, 'NVIDIA GH200 480GB');
  assert.equal(gpus[1]!.pcie_link_gen_current, null);
  assert.equal(gpus[1]!.pcie_link_width_max, null);
});

test('chunked prefill: on when max_seq_len exceeds max_num_tokens (default 8192), as the options say otherwise', () => {
  assert.equal(chunkedPrefillFor(makeJob({ max_seq_len: 131072 })), true);
  assert.equal(chunkedPrefillFor(makeJob({ max_seq_len: 8192 })), undefined);
  assert.equal(chunkedPrefillFor(makeJob({ max_seq_len: 131072, engine: { kind: 'trtllm', options: { max_num_tokens: 131072 } } })), undefined);
  assert.equal(chunkedPrefillFor(makeJob({ max_seq_len: 131072, engine: { kind: 'trtllm', options: { enable_chunked_prefill: false } } })), false);
});
