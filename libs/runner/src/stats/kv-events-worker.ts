/**
 * Reads POST /kv_cache_events off the main thread. TensorRT-LLM's `stored`
 * events list every token of every block (the simulator's too): one 128K-token
 * prompt is megabytes of JSON, and parsing that on the replay's event loop would
 * delay the very first tokens kvbench is timing. Here it costs a worker's time;
 * only the counts cross back.
 */
import { parentPort } from 'node:worker_threads';
import { httpRequest } from '../http.js';

export interface KvEventsRequest {
  url: string;
  timeoutMs: number;
}

export type KvEventsReply =
  | { ok: true; events: number; offloads: number; onboards: number }
  | { ok: false; status: number | null; error: string };

interface EventShape {
  data?: { type?: string; cache_level?: { old_value?: number; new_value?: number } | null };
}

/** Offloads (cache_level 0→1) and onboards (1→0) among `updated` events. */
export function countTransfers(events: readonly EventShape[]): { offloads: number; onboards: number } {
  let offloads = 0;
  let onboards = 0;
  for (const e of events) {
    const d = e?.data;
    if (!d || d.type !== 'updated' || !d.cache_level) continue;
    if (d.cache_level.old_value === 0 && d.cache_level.new_value === 1) offloads++;
    else if (d.cache_level.old_value === 1 && d.cache_level.new_value === 0) onboards++;
  }
  return { offloads, onboards };
}

async function read(req: KvEventsRequest): Promise<KvEventsReply> {
  try {
    const res = await httpRequest(req.url, { method: 'POST', body: '{}', timeoutMs: req.timeoutMs });
    if (res.status !== 200) return { ok: false, status: res.status, error: `POST /kv_cache_events answered ${res.status}` };
    const body = JSON.parse(res.body) as unknown;
    const events = Array.isArray(body) ? (body as EventShape[]) : [];
    return { ok: true, events: events.length, ...countTransfers(events) };
  } catch (err) {
    return { ok: false, status: null, error: (err as Error).message };
  }
}

parentPort?.on('message', (msg: KvEventsRequest) => {
  void read(msg).then((reply) => parentPort!.postMessage(reply));
});
