import { type Logger, type RunEvent } from '@kvbench/common';
import { EVENTS_STREAM, SIGNATURE_HEADER, checkEventSignature, ensureAggregatorConsumer } from '@kvbench/bus';
import type { ConsumerMessages, JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { IngestSettings } from '../config.js';
import type { EventWriter } from '../store/writer.js';
import { decodeEvent } from './decode.js';
import type { NoticeBus } from './notice-bus.js';
import type { PlanSource, RunPlan } from './plans.js';
import { describeStorageError, isStorageUnavailable } from './storage-errors.js';

export interface IngestStats {
  running: boolean;
  /** Events stored (new or duplicate) and acked. */
  committedEvents: number;
  /** Malformed messages terminated. */
  terminated: number;
  /** Samples refused because their run's workload has no such request (forged or misaddressed). */
  rejectedSamples: number;
  /** Events refused for carrying no signature (signing on). */
  rejectedUnsigned: number;
  /** Events refused for a signature that is not their run's (forged, or signed for another run). */
  rejectedBadSignature: number;
  /** Last SQLite failure while it lasts; null once a commit succeeds again. */
  storageError: string | null;
}

/** Deliveries after which an event that alone fails to store (not a storage outage) is given up. */
const POISON_DELIVERIES = 10;

/** Plans of this many runs are remembered (one lookup per run, not per batch). */
const CACHED_PLANS = 1024;

/** Log a persisting storage failure at most this often. */
const STORAGE_ERROR_LOG_INTERVAL_MS = 5_000;

/**
 * Durable JetStream consumer of run events into SQLite. Messages are collected
 * into batches (up to maxBatch, or maxDelayMs after the first), each batch is
 * committed in one transaction and only then acked. A failed commit acks
 * nothing: the batch is nak'ed with a delay and JetStream delivers it again.
 */
export class EventIngest {
  readonly stats: IngestStats = { running: false, committedEvents: 0, terminated: 0, rejectedSamples: 0, rejectedUnsigned: 0, rejectedBadSignature: 0, storageError: null };
  private messages: ConsumerMessages | null = null;
  private pending: JsMsg[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastStorageLog = 0;
  /** Batches are processed one after another (plan lookups are async, commits are not). */
  private chain: Promise<void> = Promise.resolve();
  private readonly plans = new Map<string, RunPlan & { kind: 'known' }>();

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly writer: EventWriter,
    private readonly bus: NoticeBus,
    private readonly log: Logger,
    private readonly settings: IngestSettings,
    /** Checks samples against their run's workload; null accepts any schema-valid sample (reads-only tools). */
    private readonly planSource: PlanSource | null = null,
  ) {}

  /** Whether only signed events are stored (EVENT_SIGNING_SECRET set). */
  get signing(): 'on' | 'off' {
    return this.settings.signingSecret ? 'on' : 'off';
  }

  async start(): Promise<void> {
    const name = await ensureAggregatorConsumer(this.jsm, this.settings.consumerName, this.settings.ackWaitMs);
    const consumer = await this.js.consumers.get(EVENTS_STREAM, name);
    this.messages = await consumer.consume({
      max_messages: Math.max(100, this.settings.maxBatch * 2),
      // Callback mode delivers synchronously as bytes arrive, so a burst fills a batch in one tick.
      callback: (m) => this.receive(m),
    });
    this.stats.running = true;
    this.log.info({ consumer: name, stream: EVENTS_STREAM, event_signing: this.signing }, 'ingest started');
    if (!this.settings.signingSecret) {
      this.log.warn('EVENT_SIGNING_SECRET is not set: unsigned run events are accepted, so any holder of an agent password can publish for any run');
    }
    void this.watchStatus(this.messages);
  }

  /** Stop taking messages and commit what was already taken (acked if the commit succeeds). */
  async stop(): Promise<void> {
    if (!this.messages) return;
    const m = this.messages;
    this.messages = null;
    await m.close().catch(() => {});
    await this.flush();
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

  /** Commit everything pending, after the batches taken before it. */
  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return this.chain;
    this.chain = this.chain.then(() => this.process(batch)).catch((err) => this.log.error({ err }, 'ingest batch failed'));
    return this.chain;
  }

  /** Decode, check samples against their runs' plans, commit. The commit is synchronous: better-sqlite3 is. */
  private async process(batch: JsMsg[]): Promise<void> {

    const msgs: JsMsg[] = [];
    const events: RunEvent[] = [];
    for (const m of batch) {
      const d = decodeEvent(m.subject, m.data);
      if (d.ok && !this.signatureAdmits(m, d.event)) continue;
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
    if (this.planSource) await this.admitSamples(msgs, events);
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

  /**
   * With signing on, an event is stored only when signed with its own run's key over its subject
   * and payload (@kvbench/bus signing.ts): anything else is terminated, logged and counted.
   */
  private signatureAdmits(m: JsMsg, event: RunEvent): boolean {
    const secret = this.settings.signingSecret;
    if (!secret) return true;
    const check = checkEventSignature(secret, event, m.subject, m.data, m.headers?.get(SIGNATURE_HEADER) || undefined);
    if (check.ok) return true;
    if (check.kind === 'unsigned') this.stats.rejectedUnsigned++;
    else this.stats.rejectedBadSignature++;
    this.log.warn({ subject: m.subject, stream_seq: m.seq, run_id: event.run_id, attempt: event.attempt, type: event.type, reason: check.reason }, 'event rejected: not signed with its run\'s key');
    settle(() => m.term());
    return false;
  }

  /**
   * Keeps in `msgs`/`events` only what may be stored: a sample must name a request of its run's
   * workload (issue 25); anything else is terminated and logged. Once per attempt and never more
   * than the plan follow, since samples are unique per (run, attempt, request_id) in SQLite.
   * A plan that cannot be read now (bus trouble) naks the run's samples for a later delivery.
   */
  private async admitSamples(msgs: JsMsg[], events: RunEvent[]): Promise<void> {
    const runIds = new Set(events.filter((e) => e.type === 'sample').map((e) => e.run_id));
    const accepted = new Map(events.flatMap((e) => (e.type === 'accepted' ? [[e.run_id, e.job.workload_id] as const] : [])));
    const plans = new Map<string, RunPlan>();
    for (const runId of runIds) {
      let plan: RunPlan | undefined = this.plans.get(runId);
      if (!plan) {
        plan = await this.planSource!.planOf(runId, accepted.get(runId));
        if (plan.kind === 'known') {
          if (this.plans.size >= CACHED_PLANS) this.plans.delete(this.plans.keys().next().value!);
          this.plans.set(runId, plan);
        }
      }
      plans.set(runId, plan);
    }
    let kept = 0;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const m = msgs[i]!;
      if (e.type === 'sample') {
        const plan = plans.get(e.run_id)!;
        if (plan.kind === 'unknown' && plan.retry) {
          settle(() => m.nak(this.settings.retryDelayMs));
          continue;
        }
        const reason = plan.kind === 'unknown' ? plan.reason : plan.requestIds.has(e.sample.request_id) ? null : `request ${e.sample.request_id} is not in workload ${plan.workloadId}`;
        if (reason) {
          this.stats.rejectedSamples++;
          this.log.warn({ subject: m.subject, stream_seq: m.seq, run_id: e.run_id, attempt: e.attempt, request_id: e.sample.request_id, reason }, 'sample rejected: not a request of its run');
          settle(() => m.term());
          continue;
        }
      }
      msgs[kept] = m;
      events[kept] = e;
      kept++;
    }
    msgs.length = kept;
    events.length = kept;
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
