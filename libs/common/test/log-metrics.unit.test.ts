import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOG_METRIC_FIGURES, LogMetrics, logMetricsOf, unreadableLogMetrics } from '@kvbench/common';

test("the log-metric figures are the schema's eight figures, in its order, without sources and null_reasons", () => {
  assert.deepEqual(LOG_METRIC_FIGURES, [
    'cache_hit_rate', 'reused_blocks', 'offloaded_blocks', 'observed_offload_bandwidth_gbps',
    'onboarded_blocks', 'offloaded_bytes', 'onboarded_bytes', 'observed_onboard_bandwidth_gbps',
  ]);
});

test('unreadable log metrics: every figure null, each with the reason, and valid against the schema', () => {
  const lm = unreadableLogMetrics('Prometheus /metrics not readable (ECONNREFUSED)');
  LogMetrics.parse(lm);
  for (const k of LOG_METRIC_FIGURES) {
    assert.equal(lm[k], null, k);
    assert.equal(lm.null_reasons[k], 'Prometheus /metrics not readable (ECONNREFUSED)', k);
  }
  assert.deepEqual(lm.sources, {});
});

test('logMetricsOf: a figure the reader does not give is null, not undefined (JSON keeps the key)', () => {
  const lm = logMetricsOf((k) => (k === 'reused_blocks' ? 12 : undefined), { reused_blocks: 'kvCacheIterationStats' }, {});
  assert.equal(lm.reused_blocks, 12);
  assert.equal(lm.onboarded_bytes, null);
  assert.ok('onboarded_bytes' in JSON.parse(JSON.stringify(lm)));
});
