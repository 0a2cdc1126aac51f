/** The shared SSE reader: chunking, line ends, UTF-8 splits, arrival stamps, events after [DONE], real HTTP. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { sseEvents, type SseEvent } from '@kvbench/common';

async function* chunks(...parts: (Buffer | string)[]) {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}
async function collect<T>(it: AsyncIterable<SseEvent<T>>): Promise<SseEvent<T>[]> {
  const out: SseEvent<T>[] = [];
  for await (const e of it) out.push(e);
  return out;
}

test('the same events whatever the chunking (every split point, LF / CRLF / CR)', async () => {
  const base = ': keep-alive\n\ndata: {"a":1}\n\nevent: x\ndata: line1\ndata: line2\n\ndata:nospace\n\ndata: [DONE]\n\n';
  const expected = [
    { event: 'message', data: '{"a":1}' },
    { event: 'x', data: 'line1\nline2' },
    { event: 'message', data: 'nospace' },
    { event: 'message', data: '[DONE]' },
  ];
  for (const eol of ['\n', '\r\n', '\r']) {
    const text = Buffer.from(base.replace(/\n/g, eol));
    for (let cut = 0; cut <= text.length; cut++) {
      const got = await collect(sseEvents(chunks(text.subarray(0, cut), text.subarray(cut))));
      assert.deepEqual(got.map((e) => ({ event: e.event, data: e.data })), expected, `eol ${JSON.stringify(eol)}, split at ${cut}`);
    }
  }
});

test('multi-byte UTF-8 split across chunks; each event stamped with the arrival of the chunk that completed it', async () => {
  const text = Buffer.from('data: héllo 世界\n\ndata: two\n\n');
  let n = 0;
  const got = await collect(sseEvents(chunks(text.subarray(0, 9), text.subarray(9, 22), text.subarray(22)), { stamp: () => ++n }));
  assert.deepEqual(got.map((e) => [e.data, e.receivedAt]), [['héllo 世界', 2], ['two', 3]]);
});

test('an event after data: [DONE] (TensorRT-LLM main: event trtllm.perf_metrics) is read; a final event without its blank line too', async () => {
  const got = await collect(sseEvents(chunks('data: {"x":1}\n\ndata: [DONE]\n\nevent: trtllm.perf_metrics\ndata: {"request_id":7}\n\n', 'id: 9\ndata: tail')));
  assert.deepEqual(got.map((e) => [e.event, e.data, e.id]), [
    ['message', '{"x":1}', undefined],
    ['message', '[DONE]', undefined],
    ['trtllm.perf_metrics', '{"request_id":7}', undefined],
    ['message', 'tail', '9'],
  ]);
});

test('reads a Node Readable and a fetch Response body from a real HTTP server', async () => {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('id: 1\nevent: state\ndata: {"a":1}\n\n');
    setTimeout(() => res.end('data: [DONE]\n\n'), 20);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    const viaFetch = await collect(sseEvents((await fetch(url)).body!));
    const viaNode = await collect(sseEvents(await new Promise<Readable>((r) => http.get(url, r))));
    for (const got of [viaFetch, viaNode]) assert.deepEqual(got.map((e) => [e.id, e.event, e.data]), [['1', 'state', '{"a":1}'], [undefined, 'message', '[DONE]']]);
  } finally {
    server.close();
  }
});
