/** The Prometheus text parser, and vLLM / SGLang cache metrics from fixture snapshots. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogMetrics } from '@kvbench/common';
import { kvBytesPerTokenOf, openaiLogMetrics, parsePrometheusText, PrometheusParseError, sumSeries } from '@kvbench/runner';
import { fixtureText } from './helpers.js';

test('parser: names, escaped label values with commas and braces, special values, families', () => {
  const p = parsePrometheusText(
    [
      '# HELP http_requests_total The total number of HTTP requests.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      'http_requests_total{method="post",code="400"}    3 1395066363000',
      '# a plain comment',
      'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
      'metric_without_timestamp_and_labels 12.47',
      'something_weird{problem="division by zero"} +Inf -3982045',
      'odd{v="a,b}c=d"} NaN',
      '# TYPE rpc_duration_seconds summary',
      'rpc_duration_seconds{quantile="0.5"} 4773',
      'rpc_duration_seconds_sum 1.7560473e+07',
      'rpc_duration_seconds_count 2693',
    ].join('\n'),
  );
  assert.equal(sumSeries(p, 'http_requests_total'), 1030);
  assert.equal(sumSeries(p, 'http_requests_total', { code: '400' }), 3);
  const ms = p.samples.find((s) => s.name === 'msdos_file_access_time_seconds')!;
  assert.equal(ms.labels['path'], 'C:\\DIR\\FILE.TXT');
  assert.equal(ms.labels['error'], 'Cannot find file:\n"FILE.TXT"');
  assert.equal(ms.value, 1.458255915e9);
  assert.equal(p.samples.find((s) => s.name === 'something_weird')!.value, Infinity);
  assert.equal(p.samples.find((s) => s.name === 'something_weird')!.timestamp, -3982045);
  const odd = p.samples.find((s) => s.name === 'odd')!;
  assert.equal(odd.labels['v'], 'a,b}c=d');
  assert.ok(Number.isNaN(odd.value));
  assert.equal(p.families.get('http_requests_total')!.type, 'counter');
  assert.equal(p.families.get('rpc_duration_seconds')!.samples.length, 3); // _sum and _count belong to the summary
});

test('parser: malformed lines are errors naming the line', () => {
  assert.throws(() => parsePrometheusText('ok 1\nbad{a="x} 1'), (e: unknown) => e instanceof PrometheusParseError && e.line === 2);
  assert.throws(() => parsePrometheusText('no_value{a="x"}'), PrometheusParseError);
  assert.throws(() => parsePrometheusText('x 1 2 3'), PrometheusParseError);
  assert.throws(() => parsePrometheusText('x abc'), PrometheusParseError);
});

test('vLLM: prefix-cache hit rate from counter deltas over the window, summed over engines', async () => {
  const before = parsePrometheusText(await fixtureText('vllm-metrics-before.txt'));
  const after = parsePrometheusText(await fixtureText('vllm-metrics-after.txt'));
  const m = LogMetrics.parse(openaiLogMetrics(before, after)) as LogMetrics & Record<string, unknown>;
  // queries: (5000 − 1000) + (1000 − 0) = 5000; hits: (3250 − 250) + (250 − 0) = 3250
  assert.equal(m.cache_hit_rate, 3250 / 5000);
  assert.equal(m['reused_tokens'], 3250);
  assert.equal(m['queried_tokens'], 5000);
  // external: (1400 − 400) queried, (600 − 100) hit
  assert.equal(m['external_cache_hit_rate'], 0.5);
  assert.equal(m['external_reused_tokens'], 500);
  assert.match(m.sources['cache_hit_rate']!, /vllm:prefix_cache_hits_total/);
  assert.equal(m.reused_blocks, null);
  assert.match(m.null_reasons['reused_blocks']!, /tokens, not blocks/);
  assert.equal(m.offloaded_blocks, null);
  assert.match(m.null_reasons['observed_offload_bandwidth_gbps']!, /without the offloading connector/);
});

test('SGLang: cached tokens by cache_source over prompt tokens, window deltas', async () => {
  const before = parsePrometheusText(await fixtureText('sglang-metrics-before.txt'));
  const after = parsePrometheusText(await fixtureText('sglang-metrics-after.txt'));
  const m = LogMetrics.parse(openaiLogMetrics(before, after)) as LogMetrics & Record<string, unknown>;
  // device 700 − 100 = 600, host 450 − 50 = 400, storage 0 (new series) → 1000 of 3000 − 1000 = 2000 prompt tokens
  assert.equal(m['reused_tokens'], 1000);
  assert.deepEqual(m['reused_tokens_by_source'], { device: 600, host: 400, storage: 0 });
  assert.equal(m.cache_hit_rate, 0.5);
  assert.match(m.sources['cache_hit_rate']!, /sglang:prompt_tokens_total/);
});

test('SGLang without prompt_tokens_total: the engine gauge, labelled as not windowed', async () => {
  const strip = (t: string) => t.split('\n').filter((l) => !l.includes('prompt_tokens_total')).join('\n');
  const before = parsePrometheusText(strip(await fixtureText('sglang-metrics-before.txt')));
  const after = parsePrometheusText(strip(await fixtureText('sglang-metrics-after.txt')));
  const m = openaiLogMetrics(before, after);
  assert.equal(m.cache_hit_rate, 0.4);
  assert.match(m.sources['cache_hit_rate']!, /not limited to the window/);
});

const near = (actual: unknown, expected: number, what: string) => {
  assert.equal(typeof actual, 'number', `${what} is ${String(actual)}`);
  assert.ok(Math.abs((actual as number) - expected) < 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${String(actual)} ≠ ${expected}`);
};

test('vLLM offloading connector (store/load counters): bytes each way and bandwidth over the engine\'s own transfer seconds', async () => {
  const m = LogMetrics.parse(
    openaiLogMetrics(parsePrometheusText(await fixtureText('vllm-offload-before.txt')), parsePrometheusText(await fixtureText('vllm-offload-after.txt'))),
  );
  assert.equal(m.offloaded_bytes, 4e9); // 5e9 − 1e9; the _created timestamp series is not a byte count
  assert.equal(m.onboarded_bytes, 3e9);
  near(m.observed_offload_bandwidth_gbps, 4e9 / 0.2 / 1e9, 'offload bandwidth'); // 20 GB/s
  near(m.observed_onboard_bandwidth_gbps, 3e9 / 0.06 / 1e9, 'onboard bandwidth'); // 50 GB/s
  assert.match(m.sources['offloaded_bytes']!, /vllm:kv_offload_store_bytes_total/);
  assert.match(m.sources['observed_onboard_bandwidth_gbps']!, /vllm:kv_offload_load_time_total.*transfer seconds/);
  assert.equal(m.offloaded_blocks, null);
  assert.match(m.null_reasons['offloaded_blocks']!, /bytes, not blocks/);
  near(m.cache_hit_rate, 4000 / 8000, 'hit rate');
});

test('vLLM offloading connector, older names (kv_offload_total_bytes / _time by transfer_type, two engines): same figures', async () => {
  const m = LogMetrics.parse(
    openaiLogMetrics(parsePrometheusText(await fixtureText('vllm-offload-legacy-before.txt')), parsePrometheusText(await fixtureText('vllm-offload-legacy-after.txt'))),
  );
  assert.equal(m.offloaded_bytes, 6e9); // (6e9 − 2e9) + (3e9 − 1e9)
  assert.equal(m.onboarded_bytes, 3e9); // 2e9 + (1.5e9 − 5e8)
  near(m.observed_offload_bandwidth_gbps, 6e9 / 0.3 / 1e9, 'offload bandwidth'); // Δtime 0.2 + 0.1
  near(m.observed_onboard_bandwidth_gbps, 3e9 / 0.08 / 1e9, 'onboard bandwidth'); // Δtime 0.05 + 0.03
  assert.match(m.sources['offloaded_bytes']!, /vllm:kv_offload_total_bytes_total\{transfer_type="GPU_to_CPU"\}/);
  assert.match(m.sources['onboarded_bytes']!, /CPU_to_GPU/);
});

test('SGLang HiCache: backup (GPU→host) and load-back counters, never evicted_tokens_total; the engine\'s own bytes; no bandwidth from the duration histograms', async () => {
  const before = parsePrometheusText(await fixtureText('sglang-hicache-before.txt'));
  const after = parsePrometheusText(await fixtureText('sglang-hicache-after.txt'));
  // Llama-3.1-8B: 2 × 32 layers × 8 KV heads × 128 × 2 bytes = 131072 bytes per token.
  const units = { tokensPerBlock: 64, ...kvBytesPerTokenOf({ model_shape: '32:8:128:bf16' }) };
  assert.equal(units.kvBytesPerToken, 131072);
  const m = LogMetrics.parse(openaiLogMetrics(before, after, units));
  // Δ hicache_backup_tokens_total{pool="kv"} = 6144 (the mamba pool and the 8192 evicted tokens are not KV offload traffic).
  assert.equal(m.offloaded_blocks, 6144 / 64);
  assert.equal(m.onboarded_blocks, 4096 / 64);
  assert.equal(m.offloaded_bytes, 6144 * 131072);
  assert.equal(m.onboarded_bytes, 4096 * 131072);
  assert.match(m.sources['offloaded_blocks']!, /sglang:hicache_backup_tokens_total\{pool="kv"\} \/ 64/);
  assert.match(m.sources['offloaded_bytes']!, /sglang:hicache_backup_bytes_total over the window \(SGLang's own byte count\)/);
  assert.match(m.sources['onboarded_bytes']!, /sglang:load_back_bytes_total/);
  assert.ok(!JSON.stringify(m.sources).includes('evicted_tokens'), 'evicted_tokens_total is every radix-cache eviction, not offload traffic');
  for (const f of ['observed_offload_bandwidth_gbps', 'observed_onboard_bandwidth_gbps'] as const) {
    assert.equal(m[f], null, f);
    assert.match(m.null_reasons[f]!, /no transfer time.*bookkeeping.*enqueue/, f);
  }

  // An older build: tokens only, no pool label, no _bytes_total: bytes from the model's KV size, or null with what to give.
  const strip = (p: typeof before) => ({ ...p, samples: p.samples.filter((x) => !x.name.endsWith('_bytes_total') && x.labels['pool'] !== 'mamba').map((x) => ({ ...x, labels: Object.fromEntries(Object.entries(x.labels).filter(([k]) => k !== 'pool')) })) });
  const old = openaiLogMetrics(strip(before), strip(after), units);
  assert.equal(old.offloaded_bytes, 6144 * 131072);
  assert.match(old.sources['offloaded_bytes']!, /sglang:hicache_backup_tokens_total × 131072 KV bytes per token \(engine option model_shape/);
  const bare = openaiLogMetrics(strip(before), strip(after), { tokensPerBlock: 64, ...kvBytesPerTokenOf({}) });
  assert.equal(bare.offloaded_blocks, 96);
  assert.equal(bare.offloaded_bytes, null);
  assert.match(bare.null_reasons['offloaded_bytes']!, /kv_bytes_per_token/);
  assert.equal(bare.observed_offload_bandwidth_gbps, null);
});
