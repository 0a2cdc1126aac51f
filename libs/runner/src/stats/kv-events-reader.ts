/** The main-thread side of kv-events-worker: one worker per reader, one request at a time. */
import { Worker } from 'node:worker_threads';
import type { KvEventsReply, KvEventsRequest } from './kv-events-worker.js';

export class KvEventsReader {
  private worker: Worker | null = null;
  private pending: ((r: KvEventsReply) => void) | null = null;

  constructor(private readonly url: URL) {}

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./kv-events-worker.js', import.meta.url));
    w.unref(); // never keeps the process alive on its own
    w.on('message', (r: KvEventsReply) => {
      const p = this.pending;
      this.pending = null;
      p?.(r);
    });
    w.on('error', (err) => {
      const p = this.pending;
      this.pending = null;
      this.worker = null;
      p?.({ ok: false, status: null, error: `kv_cache_events worker failed: ${err.message}` });
    });
    this.worker = w;
    return w;
  }

  read(timeoutMs = 15_000): Promise<KvEventsReply> {
    if (this.pending) return Promise.resolve({ ok: false, status: null, error: 'a read is already in flight' });
    return new Promise((resolve) => {
      this.pending = resolve;
      const req: KvEventsRequest = { url: this.url.href, timeoutMs };
      this.ensure().postMessage(req);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
