import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareRuns, escapeHtml, renderHtmlReport } from '@kvbench/report';
import { syntheticPair } from './fixtures.js';

const EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>';

test('escapeHtml escapes the five HTML specials', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});

test('data in run_meta, request ids and reasons comes out escaped, never as markup', () => {
  const [a, b] = syntheticPair({ n: 12, ratio: 0.5, seed: 'xss', contexts: [2048] });
  Object.assign(a.run_meta, { model: EVIL, workload_id: EVIL, environment: { host: EVIL } });
  b.samples[0]!.request_id = EVIL;
  a.samples[0]!.request_id = EVIL;
  b.log_metrics.cache_hit_rate = null;
  b.log_metrics.null_reasons = { cache_hit_rate: EVIL };
  const html = renderHtmlReport([a, b], compareRuns([a, b]));
  assert.ok(!html.includes('<script'), 'no script element at all');
  assert.ok(!/<img/i.test(html));
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
});

test('self-contained: no external resource of any kind', () => {
  const [a, b] = syntheticPair({ n: 12, ratio: 0.5, seed: 'offline' });
  const html = renderHtmlReport([a, b], compareRuns([a, b]));
  assert.ok(!/<link|<script|@import|url\(/i.test(html));
  // The only URL is the SVG namespace identifier, which is never fetched.
  const urls = html.match(/https?:\/\/[^"'\s)]+/g) ?? [];
  assert.deepEqual([...new Set(urls)], ['http://www.w3.org/2000/svg']);
});

test('SIMULATED banner only when a run is simulated', () => {
  const [a, b] = syntheticPair({ n: 12, ratio: 0.5, seed: 'sim' });
  assert.match(renderHtmlReport([a, b], compareRuns([a, b])), /id="simulated-banner">SIMULATED/);
  for (const r of [a, b]) Object.assign(r.run_meta, { simulated: false, engine: 'trtllm' });
  assert.doesNotMatch(renderHtmlReport([a, b], compareRuns([a, b])), /simulated-banner/);
});

test('works from a results document, picking the compared runs by id', () => {
  const [a, b] = syntheticPair({ n: 12, ratio: 0.5, seed: 'doc' });
  const html = renderHtmlReport({ runs: { pcie: [a], c2c: [b] } }, compareRuns([a, b]));
  assert.equal((html.match(/data-chart="timeline-/g) ?? []).length, 2);
  assert.match(html, /a-doc/);
});
