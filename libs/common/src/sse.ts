/**
 * One Server-Sent Events reader for kvbench, built on `eventsource-parser` (the
 * WHATWG event-stream rules: LF/CRLF/CR line ends, multi-line data joined with
 * "\n", comments and retry skipped). Used by the runner for engine streams and by
 * the CLI for the aggregator's run events.
 *
 * It reads to the end of the body: an engine may send events after `data: [DONE]`
 * (TensorRT-LLM's `event: trtllm.perf_metrics`), so what [DONE] means is the
 * caller's business, not the reader's.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseEvent<T = undefined> {
  /** The `event:` field; "message" when the event named none (the WHATWG default). */
  event: string;
  id: string | undefined;
  data: string;
  /** What `stamp()` returned when the chunk that completed this event arrived. */
  receivedAt: T;
}

export interface SseReadOptions<T> {
  /**
   * Called once per chunk as it is read, before it is parsed (a streaming client's
   * arrival timestamp: the chunk became readable then, whatever parsing costs).
   */
  stamp?: () => T;
}

/** A fetch Response body, a Node Readable, or any async source of bytes or text. */
export type SseSource = AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array>;

/** Events of an event stream, in order, as each one is complete; ends with the body. */
export async function* sseEvents<T = undefined>(body: SseSource, opts: SseReadOptions<T> = {}): AsyncGenerator<SseEvent<T>> {
  const ready: SseEvent<T>[] = [];
  let at = undefined as T;
  const parser = createParser({
    onEvent: (m: EventSourceMessage) => ready.push({ event: m.event ?? 'message', id: m.id, data: m.data, receivedAt: at }),
  });
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    if (opts.stamp) at = opts.stamp();
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    while (ready.length > 0) yield ready.shift()!;
  }
  // An event whose final blank line never came is still an event to the caller (a
  // server that closes right after its last `data:` line); the parser drops it, so
  // it is completed here.
  parser.feed(decoder.decode() + '\n\n');
  while (ready.length > 0) yield ready.shift()!;
}
