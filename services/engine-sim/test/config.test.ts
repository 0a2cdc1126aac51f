import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ValidationError } from '@kvbench/common';
import { tempDir } from '@kvbench/testkit';
import { parseSimYaml, resolveSim } from '../src/config.js';
import { loadSimEnv, parseSimArgs } from '../src/cli-args.js';
import { SIM_MAIN_PATH } from '../src/index.js';
import { defaultProfileForSystem, listProfiles, loadProfile, parseProfile } from '../src/profile.js';
import { kvBytesPerToken, kvBytesPerTokenPerRank, resolveModelShape } from '../src/shapes.js';

test('unknown YAML keys are rejected with the key named', () => {
  assert.throws(() => parseSimYaml({ kv_cache_config: { max_tokens: 4096, host_cache_gb: 32 } }), (e: ConfigError) => e instanceof ConfigError && /kv_cache_config\.host_cache_gb/.test(e.message) && e.variable === 'kv_cache_config.host_cache_gb');
  assert.throws(() => parseSimYaml({ enable_iter_stats: true }), /'enable_iter_stats'/);
  assert.throws(() => parseSimYaml({ kv_cache_config: { max_tokens: -1 } }), /max_tokens/);
  const ok = parseSimYaml({ kv_cache_config: { max_tokens: 4096, tokens_per_block: 64, host_cache_size: 2 ** 35, enable_block_reuse: true }, enable_iter_perf_stats: true });
  assert.equal(ok.kv_cache_config.host_cache_size, 2 ** 35);
  assert.equal(ok.kv_cache_config.event_buffer_max_size, 0);
});

test('the CLI exits non-zero naming an unknown YAML key', async () => {
  const dir = await tempDir();
  try {
    const file = join(dir.path, 'bad.yaml');
    writeFileSync(file, 'kv_cache_config:\n  max_tokens: 4096\n  gpu_kv_max_tokens: 4096\n');
    const r = spawnSync(process.execPath, [SIM_MAIN_PATH, 'meta-llama/Llama-3.1-8B-Instruct', '--config', file, '--port', '0'], { encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /kv_cache_config\.gpu_kv_max_tokens/);
    assert.doesNotMatch(r.stdout, /listening on/);
  } finally {
    await dir.cleanup();
  }
});

test('pool sizes: GPU = max_tokens / tokens_per_block, host = host_cache_size / block bytes; max_seq_len clamped to the pool', () => {
  const r = resolveSim({
    model: 'meta-llama/Llama-3-70B-Instruct',
    tp: 4,
    maxSeqLen: 131072,
    config: parseSimYaml({ kv_cache_config: { max_tokens: 4096, tokens_per_block: 64, host_cache_size: 32 * 2 ** 30 } }),
  });
  assert.equal(r.gpuBlocks, 64);
  const blockBytes = 64 * kvBytesPerTokenPerRank(r.shape);
  assert.equal(blockBytes, (64 * 320 * 1024) / 4);
  assert.equal(r.hostBlocks, Math.floor((32 * 2 ** 30) / blockBytes));
  assert.equal(r.maxSeqLen, 4096);
  assert.ok(r.notices.some((n) => /reduced to 4096/.test(n)));
});

test('CLI arguments like trtllm-serve, plus the simulator options and KVBENCH_SIM_TIME_SCALE', () => {
  const o = parseSimArgs(['meta-llama/Llama-3-70B-Instruct', '--config', 'x.yaml', '--max_batch_size', '32', '--max_seq_len=131072', '--max_num_tokens', '8192', '--host', '0.0.0.0', '--port', '0', '--profile', 'gh200-c2c', '--seed', '7', '--legacy_metrics', '--tp', '4'], loadSimEnv({ KVBENCH_SIM_TIME_SCALE: '0.05' }));
  assert.deepEqual(o, { model: 'meta-llama/Llama-3-70B-Instruct', config: 'x.yaml', maxBatchSize: 32, maxSeqLen: 131072, maxNumTokens: 8192, host: '0.0.0.0', port: 0, profile: 'gh200-c2c', seed: 7, legacyMetrics: true, tp: 4, timeScale: 0.05 });
  assert.equal(parseSimArgs(['m', '--time_scale', '0.5'], loadSimEnv({ KVBENCH_SIM_TIME_SCALE: '0.05' })).timeScale, 0.5);
  assert.throws(() => loadSimEnv({ KVBENCH_SIM_TIME_SCALE: '-1' }), (e: ConfigError) => e.variable === 'KVBENCH_SIM_TIME_SCALE');
  assert.throws(() => parseSimArgs(['m', '--bogus', '1']), /--bogus/);
  assert.throws(() => parseSimArgs(['m', '--max_batch_size', 'x']), /integer/);
  assert.throws(() => parseSimArgs([]), /model/);
});

test('model names map to shapes; KV bytes per token match REFERENCES.md', () => {
  assert.equal(kvBytesPerToken(resolveModelShape('meta-llama/Llama-3.1-8B-Instruct')), 128 * 1024);
  assert.equal(kvBytesPerToken(resolveModelShape('meta-llama/Llama-3-70B-Instruct')), 320 * 1024);
  assert.equal(kvBytesPerToken(resolveModelShape('Qwen/Qwen3-8B')), 144 * 1024);
  assert.equal(resolveModelShape('/models/Meta-Llama-3.1-8B-Instruct/').name, 'llama-3.1-8b');
  assert.equal(kvBytesPerToken(resolveModelShape('x', { shape: '32:8:128:fp8' })), 64 * 1024);
  assert.equal(kvBytesPerTokenPerRank(resolveModelShape('meta-llama/Llama-3-70B-Instruct', { tp: 8 })), 40 * 1024);
  assert.throws(() => resolveModelShape('mistralai/Mistral-7B'), (e: ConfigError) => /unknown model 'mistralai\/Mistral-7B'/.test(e.message) && /--model_shape/.test(e.message));
  assert.throws(() => resolveModelShape('x', { shape: '32:8' }), /model_shape/);
  assert.throws(() => resolveModelShape('meta-llama/Llama-3-70B-Instruct', { tp: 3 }), /divisor/);
});

test('profiles: shipped ones validate, system labels map to them, bad ones are rejected with the field', () => {
  assert.deepEqual(listProfiles(), ['gh200-c2c', 'h100-pcie-gen5', 'h200-pcie-gen5']);
  assert.equal(defaultProfileForSystem('pcie'), 'h100-pcie-gen5');
  assert.equal(defaultProfileForSystem('c2c'), 'gh200-c2c');
  const h100 = loadProfile('h100-pcie-gen5');
  assert.ok(h100.measured);
  assert.ok(h100.sources.length > 0 && loadProfile('gh200-c2c').sources.length > 0);
  const bad = structuredClone(h100) as any;
  bad.link.h2d.pinned = [[1024, 5], [512, 6]];
  assert.throws(() => parseProfile(bad), (e: ValidationError) => e.field === 'link.h2d.pinned');
  assert.throws(() => loadProfile('no-such-profile'), /shipped profiles: gh200-c2c, h100-pcie-gen5/);
});
