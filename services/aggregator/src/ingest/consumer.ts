import { type Logger, type RunEvent } from '@kvbench/common';
import { EVENTS_STREAM, ensureAggregatorConsumer } from '@kvbench/bus';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { IngestSettings } from '../config.js';
import type { EventWriter } from '../store/writer.js';
import { decodeEvent } from './decode.js';
import type { NoticeBus } from './notice-bus.js';
import { describeStorageError, isStorageUnavailable } from './storage-errors.js';

export interface IngestStats {
  running: boolean;
  /** Events stored (new or duplicate) and acked. */
  committedEvents: number;
  /** Malformed messages terminated. */
  terminated: number;
  /** Last SQLite failure while it lasts; null once a commit succeeds again. */
  storageError: string | null;
}

/** Deliveries after which an event that alone fails to store (not a storage outage) is given up. */
const POISON_DELIVERIES = 10;

/** Log a persisting storage failure at most this often. */
const STORAGE_ERROR_LOG_INTERVAL_MS = 5_000;

/**
 * Durable JetStream consumer of run events into SQLite. Messages are collected
 * into batches (up to maxBatch, or maxDelayMs after the first), each batch is
 * committed in one transaction and only then acked. A failed commit acks
 * nothing: the batch is nak'ed with a delay and JetStream delivers it again.
 */
export class EventIngest {
  readonly stats: IngestStats = { running: false, committedEvents: 0, terminated: 0, storageError: null };
  private messages: ConsumerMessages | null = null;
  private pending: JsMsg[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastStorageLog = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly writer: EventWriter,
    private readonly bus: NoticeBus,
    private readonly log: Logger,
    private readonly settings: IngestSettings,
  ) {}

  async start(): Promise<void> {
    const name = await ensureAggregatorConsumer(this.jsm, this.settings.consumerName);
    const consumer = await this.js.consumers.get(EVENTS_STREAM, name);
    this.messages = await consumer.consume({
      max_messages: Math.max(100, this.settings.maxBatch * 2),
      // Callback mode delivers synchronously as bytes arrive, so a burst fills a batch in one tick.
      callback: (m) => this.receive(m),
    });
    this.stats.running = true;
    this.log.info({ consumer: name, stream: EVENTS_STREAM }, 'ingest started');
    void this.watchStatus(this.messages);
  }

  /** Stop taking messages and commit what was already taken (acked if the commit succeeds). */
  async stop(): Promise<void> {
    if (!this.messages) return;
    const m = this.messages;
    this.messages = null;
    await m.close().catch(() => {});
    this.flush();
    this.stats.running = false;
  }

  /** Consumer trouble (missed heartbeats, consumer or stream deleted) is logged; the client recovers by itself. */
  private async watchStatus(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const s of messages.status()) {
        if (s.type === 'heartbeats_missed' || s.type === 'consumer_not_found' || s.type === 'stream_not_found' || s.type === 'consumer_deleted') {
          this.log.warn({ status: s.type }, 'events consumer status');
        }
      }
    } catch {
      // The iterator ends with the consumer; nothing to do.
    }
  }

  private receive(m: JsMsg): void {
    this.pending.push(m);
    if (this.pending.length >= this.settings.maxBatch) this.flush();
    else if (this.timer === null) this.timer = setTimeout(() => this.flush(), this.settings.maxDelayMs);
  }

  /** Commit everything pending. Synchronous: better-sqlite3 is, and acks are buffered writes. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;

    const msgs: JsMsg[] = [];
    const events: RunEvent[] = [];
    for (const m of batch) {
      const d = decodeEvent(m.subject, m.data);
      if (d.ok) {
        msgs.push(m);
        events.push(d.event);
      } else {
        this.stats.terminated++;
        this.log.warn({ subject: m.subject, stream_seq: m.seq, reason: d.reason }, 'malformed event terminated');
        // No reason argument: nats-server 2.9 does not parse "+TERM <reason>" and would leave the message pending.
        settle(() => m.term());
      }
    }
    if (events.length === 0) return;
    try {
      this.commit(msgs, events);
    } catch (err) {
      if (isStorageUnavailable(err)) return this.retryLater(msgs, err);
      if (events.length === 1) return this.rejectOrRetry(msgs[0]!, err);
      // Something specific to one event: isolate it so the others are stored now.
      for (let i = 0; i < events.length; i++) {
        try {
          this.commit([msgs[i]!], [events[i]!]);
        } catch (one) {
          this.rejectOrRetry(msgs[i]!, one);
        }
      }
    }
  }

  private commit(msgs: JsMsg[], events: RunEvent[]): void {
    const notices = this.writer.write(events);
    // Acked only now that the transaction is committed. An ack lost now (connection
    // closing) means a redelivery, which the idempotent writer absorbs.
    for (const m of msgs) settle(() => m.ack());
    this.stats.committedEvents += events.length;
    if (this.stats.storageError !== null) {
      this.log.info({ previous_error: this.stats.storageError }, 'storage writable again; ingest resumed');
      this.stats.storageError = null;
    }
    try {
      this.bus.publish(notices);
    } catch (err) {
      // A live subscriber's failure must not undo or repeat a commit.
      this.log.error({ err }, 'live notice delivery failed');
    }
  }

  /**
   * A valid event that SQLite refuses for its own reasons (not an unwritable
   * store): retried, and after POISON_DELIVERIES terminated with an error log
   * naming it, so one bad event cannot cycle forever.
   */
  private rejectOrRetry(m: JsMsg, err: unknown): void {
    if (isStorageUnavailable(err)) return this.retryLater([m], err);
    if (m.info.deliveryCount < POISON_DELIVERIES) {
      this.log.warn({ subject: m.subject, stream_seq: m.seq, deliveries: m.info.deliveryCount, err: describeStorageError(err) }, 'event refused by SQLite: retrying');
      settle(() => m.nak(this.settings.retryDelayMs));
      return;
    }
    this.stats.terminated++;
    this.log.error(
      { subject: m.subject, stream_seq: m.seq, deliveries: m.info.deliveryCount, err: describeStorageError(err) },
      'event refused by SQLite on every delivery: terminated',
    );
    settle(() => m.term());
  }

  private retryLater(msgs: JsMsg[], err: unknown): void {
    const message = describeStorageError(err);
    const now = Date.now();
    if (this.stats.storageError !== message || now - this.lastStorageLog >= STORAGE_ERROR_LOG_INTERVAL_MS) {
      this.lastStorageLog = now;
      this.log.error(
        { err: message, events: msgs.length, first_subject: msgs[0]?.subject, retry_in_ms: this.settings.retryDelayMs },
        'cannot store events in SQLite: nothing acked, JetStream will deliver them again',
      );
    }
    this.stats.storageError = message;
    for (const m of msgs) settle(() => m.nak(this.settings.retryDelayMs));
  }
}

/**
 * ack/nak/term publish on the connection and throw once it is closed. Whatever
 * is not settled is delivered again after the ack wait, so a failure here is
 * never worth crashing the process over.
 */
function settle(f: () => void): void {
  try {
    f();
  } catch {
    /* redelivered later */
  }
}
