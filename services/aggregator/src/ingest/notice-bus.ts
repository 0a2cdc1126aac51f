import { EventEmitter } from 'node:events';
import type { StoreNotice } from '../store/notices.js';

/**
 * In-process fan-out of what each commit stored, per run. Fed by ingest after
 * the transaction commits, so a subscriber never sees an event that could still
 * be rolled back.
 */
export class NoticeBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per open SSE stream; their number is bounded by connections, not by a leak.
    this.emitter.setMaxListeners(0);
  }

  publish(notices: readonly StoreNotice[]): void {
    // Most runs have no live subscriber; skip building the emit for them.
    for (const n of notices) if (this.emitter.listenerCount(n.run_id) > 0) this.emitter.emit(n.run_id, n);
  }

  /** Returns the function that unsubscribes. */
  subscribe(runId: string, listener: (n: StoreNotice) => void): () => void {
    this.emitter.on(runId, listener);
    return () => this.emitter.off(runId, listener);
  }

  listenerCount(runId: string): number {
    return this.emitter.listenerCount(runId);
  }
}
