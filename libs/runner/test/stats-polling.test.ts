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
    for (let round = 1; round <= 5; round++) {
      await reader.poll();
      while (metricsReads < start + round) await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(metricsReads, start + 5);
    assert.equal(eventsReads, 2, 'one events read in flight the whole time, none started beside it');
    assert.equal(reader.window.iterations, 5);
    assert.equal(reader.window.lost(), 0);
  } finally {
    await reader.abandon();
    server.closeAllConnections();
    server.close();
  }
});
