import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { BusError, type Logger, type RunEvent } from '@kvbench/common';
import { eventSubject } from './bus.js';
import { SIGNATURE_HEADER, signEvent } from './signing.js';

/** The run key an event is signed with (signing.ts); null publishes it unsigned. */
export type RunKeyOf = (event: RunEvent) => string | null;

/**
 * The message id of a run event, the same on every retry and whoever publishes it (a `cancelled`
 * from the workload-api or from the agent), so JetStream de-duplicates a repeated publish; the
 * aggregator's idempotent inserts cover anything outside the window. Progress snapshots of engine
 * statistics are many per attempt: `snapshot` numbers them.
 */
export function eventMessageId(e: RunEvent, snapshot = 0): string {
  const base = `${e.run_id}.${e.attempt}.${e.type}`;
  switch (e.type) {
    case 'sample':
      return `${base}.${e.sample.request_id}`;
    case 'engine_stats':
      return e.final ? `${base}.final` : `${base}.${snapshot}`;
    case 'telemetry':
      return `${base}.${e.chunk}`;
    default:
      return base;
  }
}

/**
 * The one publisher of run events on JetStream (host agents and the workload-api). A failed publish
 * is retried with the same msgID for `retryForMs` (while nats-server restarts, publishes fail until
 * the client reconnects), then raised as a BusError. Each event is signed with its run's key
 * (`keyOf`, signing.ts) when there is one.
 */
export class EventPublisher {
  private statsSeq = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly log: Logger,
    private readonly retryForMs = 120_000,
    private readonly keyOf: RunKeyOf = () => null,
  ) {}

  /** Publishes and returns the stream sequence. `msgID` replaces eventMessageId's id (an id kept from before). */
  async publish(event: RunEvent, signal?: AbortSignal, msgID?: string): Promise<number> {
    const subject = eventSubject(event.run_id, event.type);
    const id = msgID ?? eventMessageId(event, event.type === 'engine_stats' && !event.final ? ++this.statsSeq : 0);
    const payload = JSON.stringify(event);
    const key = this.keyOf(event);
    const hdrs = key ? headers() : undefined;
    hdrs?.set(SIGNATURE_HEADER, signEvent(key!, subject, payload));
    const deadline = Date.now() + this.retryForMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        return (await this.js.publish(subject, payload, { msgID: id, timeout: 5000, ...(hdrs ? { headers: hdrs } : {}) })).seq;
      } catch (err) {
        if (signal?.aborted || Date.now() > deadline) {
          throw new BusError(`could not publish ${event.type} event of run ${event.run_id}`, { cause: err });
        }
        this.log.warn({ err: String(err), subject }, 'publish failed, retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
