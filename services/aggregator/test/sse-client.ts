/** A minimal Server-Sent Events reader over fetch, for tests. */
export interface SseEvent {
  event: string;
  id?: string;
  data: any;
}

/** Read events until the server ends the stream (or `stopWhen` says so); `onEvent` sees each as it arrives. */
export async function readSse(
  url: string,
  opts: { headers?: Record<string, string>; onEvent?: (e: SseEvent) => void | Promise<void>; signal?: AbortSignal } = {},
): Promise<SseEvent[]> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...opts.headers }, signal: opts.signal ?? null });
  if (res.status !== 200) throw new Error(`SSE ${url} → ${res.status}: ${await res.text()}`);
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) throw new Error('not an event stream');
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let sep: number;
    while ((sep = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, sep);
      buf = buf.slice(sep + 2);
      const e: Partial<SseEvent> & { dataLines: string[] } = { dataLines: [] };
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'event') e.event = value;
        else if (field === 'id') e.id = value;
        else if (field === 'data') e.dataLines.push(value);
      }
      if (e.dataLines.length === 0) continue;
      const ev: SseEvent = { event: e.event ?? 'message', data: JSON.parse(e.dataLines.join('\n')) };
      if (e.id !== undefined) ev.id = e.id;
      events.push(ev);
      await opts.onEvent?.(ev);
    }
  }
  return events;
}
