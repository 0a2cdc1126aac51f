import type { JetStreamClient } from '@nats-io/jetstream';
import { BusError, type Logger, type RunEvent } from '@kvbench/common';
import { eventSubject } from '@kvbench/bus';

/**
 * Publishes run events on JetStream. Each event gets a msgID that is the same on
 * every retry, so a publish repeated after a reconnect is de-duplicated by the
 * server; the aggregator's idempotent inserts cover anything outside the window.
 */
export class EventPublisher {
  private statsSeq = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly log: Logger,
    private readonly retryForMs = 120_000,
  ) {}

  async publish(event: RunEvent, signal?: AbortSignal): Promise<void> {
    const subject = eventSubject(event.run_id, event.type);
    const msgID = this.messageId(event);
    const payload = JSON.stringify(event);
    const deadline = Date.now() + this.retryForMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        await this.js.publish(subject, payload, { msgID, timeout: 5000 });
        return;
      } catch (err) {
        // While nats-server restarts, publishes fail until the client reconnects: retry with the same msgID.
        if (signal?.aborted || Date.now() > deadline) {
          throw new BusError(`could not publish ${event.type} event of run ${event.run_id}`, { cause: err });
        }
        this.log.warn({ err: String(err), subject }, 'publish failed, retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private messageId(e: RunEvent): string {
    const base = `${e.run_id}.${e.attempt}.${e.type}`;
    switch (e.type) {
      case 'sample':
        return `${base}.${e.sample.request_id}`;
      case 'engine_stats':
        return e.final ? `${base}.final` : `${base}.${++this.statsSeq}`;
      case 'telemetry':
        return `${base}.${e.chunk}`;
      default:
        return base;
    }
  }
}
