import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import {
  CONFIG_PRESETS,
  ConfigError,
  Job,
  RunEvent,
  ValidationError,
  computeAggregate,
  envInt,
  hostCacheBytes,
  loadConfig,
  mean,
  natsEnvSchema,
  natsSettingsFrom,
  parseOrThrow,
  percentile,
  requiredGpuKvTokens,
  resolveKvConfig,
  type Sample,
} from '@kvbench/common';

describe('statistics', () => {
  test('percentiles by linear interpolation between order statistics (numpy default), by hand', () => {
    const v = [15, 20, 35, 40, 50];
    // h = (n-1)·p/100: p50 → h=2 → 35; p95 → h=3.8 → 40 + 0.8·10 = 48; p99 → h=3.96 → 49.6; p25 → h=1 → 20
    assert.equal(percentile(v, 50), 35);
    assert.equal(percentile(v, 95), 48);
    assert.ok(Math.abs(percentile(v, 99)! - 49.6) < 1e-12);
    assert.equal(percentile(v, 25), 20);
    assert.equal(percentile([3, 1, 2, 4], 50), 2.5, 'unsorted input, even count');
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([], 50), null);
    assert.equal(percentile([1, 2], 0), 1);
    assert.equal(percentile([1, 2], 100), 2);
    assert.throws(() => percentile([1], 101), RangeError);
    assert.equal(mean([1, 2, 3, 6]), 3);
  });

  test('aggregate over samples: percentiles of successful requests, throughput over the measured window', () => {
    const s = (id: string, at: number, ttft: number | null, lat: number | null, ok = true): Sample =>
      ({
        request_id: id, batch_index: 0, index_in_batch: 0, prompt_id: 'p', context_tokens: 100, phase: 'cold',
        scheduled_at_s: at, ttft_s: ttft, latency_s: lat, itl_s: [], prompt_tokens_client: 100,
        prompt_tokens_server: 100, completion_tokens_client: 4, completion_tokens_server: 4, cached_tokens: 0,
        ok, error: null, server: null,
      }) as Sample;
    const a = computeAggregate([s('a', 0, 0.1, 1), s('b', 0, 0.3, 2), s('c', 1, 0.2, 3), s('d', 1, null, null, false)]);
    assert.equal(a.ttft_p50_s, 0.2);
    assert.equal(a.latency_p50_s, 2);
    // window: first scheduled 0 → last end 1 + 3 = 4 s; 3 successful requests
    assert.equal(a.throughput_req_per_s, 3 / 4);
    assert.equal(a.n_failed, 1);
    assert.equal(a.n_ok, 3);
  });
});

describe('schemas', () => {
  test('a rejected document names the offending field path', () => {
    const job = { schema: 'kvbench.job', version: 1, run_id: 'r1', workload_id: 'w', system_label: 'pcie', model: 'm',
      engine: { kind: 'sim' }, config_module: 'config_pcie', max_batch_size: 0, max_seq_len: 10, output_tokens: 4,
      temperature: 0, top_p: 1, submitted_at: 'now' };
    assert.throws(() => parseOrThrow(Job, job, 'job'), (e: unknown) => e instanceof ValidationError && e.field === 'max_batch_size');
    assert.throws(
      () => parseOrThrow(Job, { ...job, max_batch_size: 4, engine: { kind: 'tensorrt' } }, 'job'),
      (e: unknown) => e instanceof ValidationError && e.field === 'engine.kind',
    );
    assert.throws(
      () => parseOrThrow(Job, { ...job, max_batch_size: 4, system_label: 'PCIe Gen5' }, 'job'),
      (e: unknown) => e instanceof ValidationError && e.field === 'system_label',
    );
    assert.equal(parseOrThrow(Job, { ...job, max_batch_size: 4 }, 'job').notes, '');
  });

  test('events are a union discriminated by type; unknown types are rejected', () => {
    const base = { schema: 'kvbench.event', version: 1, run_id: 'r1', attempt: 1, system_label: 'c2c', at: 'now' };
    assert.equal(RunEvent.safeParse({ ...base, type: 'failed', error: 'x' }).success, true);
    const bad = RunEvent.safeParse({ ...base, type: 'exploded' });
    assert.equal(bad.success, false);
    assert.equal(RunEvent.safeParse({ ...base, type: 'sample', sample: {} }).success, false);
  });
});

describe('config presets', () => {
  test('the original presets, overrides applied on top, host cache in bytes', () => {
    assert.deepEqual(resolveKvConfig('config_pcie'), { gpu_kv_max_tokens: 4096, tokens_per_block: 64, host_cache_gb: 32, enable_reuse: true });
    assert.deepEqual(resolveKvConfig('config_c2c'), { gpu_kv_max_tokens: 2048, tokens_per_block: 64, host_cache_gb: 64, enable_reuse: true });
    const c = resolveKvConfig('config_pcie', { gpu_kv_max_tokens: 8192, host_cache_gb: 64, enable_reuse: false });
    assert.deepEqual(c, { gpu_kv_max_tokens: 8192, tokens_per_block: 64, host_cache_gb: 64, enable_reuse: false });
    assert.equal(hostCacheBytes(c), 64 * 1024 ** 3);
    assert.equal(CONFIG_PRESETS.config_pcie!.gpu_kv_max_tokens, 4096, 'presets are not mutated by overrides');
  });

  test('an unknown preset names the valid ones', () => {
    assert.throws(
      () => resolveKvConfig('config_nvl'),
      (e: unknown) => e instanceof ValidationError && e.field === 'config_module' && /config_pcie, config_c2c/.test(e.message),
    );
  });

  test('GPU pool capacity: the smallest pool holding the largest request, in whole blocks', () => {
    const kv = resolveKvConfig('config_pcie');
    assert.equal(requiredGpuKvTokens(kv, 4000), null);
    assert.equal(requiredGpuKvTokens(kv, 32768 + 16), 32832);
  });
});

describe('configuration from the environment', () => {
  const schema = z.object({ PORT: envInt(8080, 0, 65535), ...natsEnvSchema });
  test('defaults, and the first bad variable named', () => {
    const c = loadConfig(schema, {});
    assert.equal(c.PORT, 8080);
    assert.deepEqual(natsSettingsFrom(c).servers, ['nats://127.0.0.1:4222']);
    assert.deepEqual(natsSettingsFrom(loadConfig(schema, { NATS_URL: 'nats://a:4222, nats://b:4222' })).servers, ['nats://a:4222', 'nats://b:4222']);
    assert.throws(() => loadConfig(schema, { PORT: 'eighty' }), (e: unknown) => e instanceof ConfigError && e.variable === 'PORT' && /PORT/.test(e.message));
    assert.throws(() => loadConfig(schema, { NATS_STREAM_REPLICAS: '9' }), (e: unknown) => e instanceof ConfigError && e.variable === 'NATS_STREAM_REPLICAS');
    assert.equal(loadConfig(schema, { PORT: '' }).PORT, 8080, 'an empty variable is unset');
  });
});
