/** The engine config file, nvidia-smi parsing (SSE: libs/common/test/sse.test.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { resolveKvConfig } from '@kvbench/common';
import { capabilitiesOf, capabilitiesOfVersion, chunkedPrefillFor, completionBody, generationOf, parseNvidiaSmiCsv, parseTrtllmVersion, trtllmConfig, trtllmConfigFor, trtllmConfigYaml } from '@kvbench/runner';
import { fixtureText, makeJob } from './helpers.js';

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

test('TensorRT-LLM versions → behaviour generation (ENGINES.md landmarks)', () => {
  const cases: [string | null, string][] = [
    ['1.0.0', '1.0'], ['1.0.1', '1.0'], ['1.1.0rc3', '1.1'], ['1.2.0', '1.2'], ['1.3.0rc4', '1.3-early'], ['1.3.0rc5', '1.3-collector'], ['1.3.0rc11', '1.3-collector'],
    ['1.3.0rc12', '1.3-tee'], ['1.3.0rc23', '1.3-tee'], ['1.3.0rc24', '1.3-late'], ['1.3.0', '1.3-late'], ['1.4.0rc1', 'main'], ['2.0.0', 'main'], ['0.21.0', 'unknown'], ['garbage', 'unknown'], [null, 'unknown'],
  ];
  for (const [v, gen] of cases) assert.equal(generationOf(v), gen, String(v));
  // The landmarks, each from its PR (ENGINES.md): iteration KV stats from 1.3.0rc8 (PR #12413), the stealing
  // collector 1.3.0rc5-rc11 only (PR #11243 / #13405), /perf_metrics 1.1 to before 1.3.0rc24 (PR #6985 / #16668).
  const c = (v: string) => capabilitiesOfVersion(v, null);
  assert.deepEqual(['1.0.1', '1.1.0', '1.2.0', '1.3.0rc7', '1.3.0rc8', '1.3.0rc26'].map((v) => c(v).iterationKvDeltas), [false, false, false, false, true, true]);
  assert.deepEqual(['1.2.0', '1.3.0rc4', '1.3.0rc5', '1.3.0rc11', '1.3.0rc12'].map((v) => c(v).collectorDrainsIterStats), [false, false, true, true, false]);
  assert.deepEqual(['1.0.1', '1.1.0', '1.3.0rc23', '1.3.0rc24', '1.3.0'].map((v) => c(v).perfMetricsEndpoint), [false, true, true, false, false]);
  assert.deepEqual(['1.2.0', '1.3.0rc8'].map((v) => c(v).kvEventsSafeWithHostCache), [false, true]);
  assert.deepEqual(['1.2.0', '1.3.0rc1'].map((v) => c(v).kvEventsWait), [true, false]);
  assert.equal(capabilitiesOfVersion(null, null).kvEventsSafeWithHostCache, false, 'an unknown build gets nothing that could break it');
  assert.deepEqual(parseTrtllmVersion('1.3.0rc12'), { major: 1, minor: 3, patch: 0, rc: 12, dev: false });
  // --help wins over the version guess for the config flag.
  assert.equal(capabilitiesOf('1.1', ['--extra_llm_api_options', '--config']).configFlag, '--config');
  assert.equal(capabilitiesOf('main', ['--extra_llm_api_options']).configFlag, '--extra_llm_api_options');
  assert.equal(capabilitiesOf('unknown', null).configFlag, '--extra_llm_api_options');
});

test('engine config per build: keys a build lacks stay out, each with its consequence; the GPU memory share inside kv_cache_config', () => {
  const kv = resolveKvConfig('config_pcie', {});
  const old = trtllmConfigFor(kv, { perfMetricsMaxRequests: 64, eventBufferMaxSize: 1000, freeGpuMemoryFraction: 0.8, capabilities: capabilitiesOf('1.0', null) });
  assert.deepEqual(Object.keys(old.config.kv_cache_config).sort(), ['enable_block_reuse', 'event_buffer_max_size', 'free_gpu_memory_fraction', 'host_cache_size', 'max_tokens']);
  assert.equal(old.config.perf_metrics_max_requests, undefined);
  assert.deepEqual(old.leftOut.map((l) => l.key), ['kv_cache_config.tokens_per_block', 'perf_metrics_max_requests']);
  assert.ok(old.leftOut.every((l) => l.reason && l.consequence));
  const main = trtllmConfigFor(kv, { perfMetricsMaxRequests: 64, eventBufferMaxSize: 0, capabilities: capabilitiesOf('main', null) });
  assert.equal(main.config.kv_cache_config.tokens_per_block, 64);
  assert.equal(main.config.kv_cache_config.event_buffer_max_size, undefined, 'no event buffer: nobody reads the events');
  assert.equal(main.config.return_perf_metrics, true);
  assert.equal(main.config.perf_metrics_max_requests, undefined);
  assert.match(main.leftOut[0]!.consequence, /X-TRTLLM-return-metrics/);
});
