/**
 * Statistics polling is not paced by the slowest endpoint: TensorRT-LLM's /kv_cache_events (and
 * /metrics) wait up to 2 s on an empty queue (ENGINES.md, get_stats_async(2)); while one endpoint's
 * read hangs, the others keep being read. Counted, not timed.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { silentLogger } from '@kvbench/common';
import { TrtllmStatsReader } from '@kvbench/runner';

test('a /kv_cache_events read that does not answer does not hold up /metrics reads', { timeout: 60_000 }, async () => {
  let metricsReads = 0;
  let eventsReads = 0;
  let iter = 0;
  const server = http.createServer((req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    if (path === '/metrics') {
      metricsReads++;
      iter++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ iter, kvCacheStats: { reusedBlocks: iter, missedBlocks: 0 } }]));
    } else if (path === '/kv_cache_events') {
      // The first read (window start) answers; later ones hang, as on an empty queue.
      if (++eventsReads === 1) res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
  const reader = new TrtllmStatsReader(base, silentLogger, { freshEngine: true, readKvEvents: true, readPerfEndpoint: false });
  try {
    await reader.open();
    const start = metricsReads;
    // The run's poll loop: poll() again and again; a read starts wherever the last one has ended.
    while (metricsReads < start + 10) {
      await reader.poll();
      await new Promise((r) => setTimeout(r, 5));
    }
    // Awaited together, every poll would read each endpoint once: as many events reads as metrics reads.
    // Here the one hanging events read (15 s limit) leaves /metrics free.
    assert.ok(eventsReads - 1 < (metricsReads - start) / 2, `${eventsReads - 1} events reads beside ${metricsReads - start} metrics reads`);
    assert.ok(reader.window.iterations >= 9);
    assert.equal(reader.window.lost(), 0);
  } finally {
    await reader.abandon();
    server.closeAllConnections();
    server.close();
  }
});
