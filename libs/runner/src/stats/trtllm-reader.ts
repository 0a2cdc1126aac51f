/**
 * Polls a TensorRT-LLM (or simulator) engine's statistics endpoints through the
 * run and sums them over the measured window.
 *
 * Each endpoint has its own read in flight: `/metrics` and `/kv_cache_events`
 * wait up to 2 s on an empty queue (ENGINES.md, `get_stats_async(2)`), so reads
 * awaited together would pace every figure — and the per-request join — to ~2 s.
 * Reads of one endpoint never overlap: each drains a queue, and order matters.
 */
import type { LogMetrics, Logger } from '@kvbench/common';
import { httpJson, httpRequest, HttpStatusError } from '../http.js';
import { cap, type Capability } from '../engine/capabilities.js';
import type { PerfEntry } from './perf-metrics.js';
import type { StatsReader } from './reader.js';
import { KvEventsReader } from './kv-events-reader.js';
import { parsePrometheusText, type PromText } from './prometheus.js';
import { fillFromTrtllmPrometheus } from './trtllm-prometheus.js';
import { TrtllmWindow, type IterationStats } from './trtllm.js';

export interface TrtllmReaderOptions {
  /** kvbench started the engine for this run (no earlier activity in its counters). */
  freshEngine: boolean;
  /** Read /kv_cache_events (only where iteration stats lack KV deltas and the buffer is on). */
  readKvEvents: boolean;
  /** Why not, for the null reasons. */
  kvEventsOffReason?: string;
  /** Where the build has no offload counters and the events are off: the true reason for null offload/onboard figures. */
  noOffloadCounters?: string | null;
  /** Poll GET /perf_metrics (builds that keep per-request metrics there). */
  readPerfEndpoint: boolean;
  /** A second reader may drain /metrics (the build's own collector), and why. */
  drainerNote?: string | null;
}

/** One endpoint's serial reads. */
class Lane {
  private inFlight: Promise<void> | null = null;
  constructor(private readonly read: () => Promise<void>) {}
  /** Start a read unless one is in flight; resolves when the current read ends. */
  kick(): Promise<void> {
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }
  /** Wait for the read in flight, then read once more (the final drain). */
  async last(): Promise<void> {
    if (this.inFlight) await this.inFlight;
    await this.kick();
  }
}

export class TrtllmStatsReader implements StatsReader {
  readonly window = new TrtllmWindow();
  private perf: PerfEntry[] = [];
  private perfTotal = 0;
  private perfError: string | null = null;
  private metricsError: string | null = null;
  private metricsReads = 0;
  private readonly events: KvEventsReader;
  /** /prometheus/metrics at window start and end (the fallback when /metrics gave kvbench nothing). */
  private promBefore: PromText | null = null;
  private promAfter: PromText | null = null;
  /** Events are read only until iteration stats prove them unnecessary (they are large). */
  private eventsSkipped = false;
  private inWindow = false;
  private readonly metricsLane: Lane;
  private readonly eventsLane: Lane;
  private readonly perfLane: Lane;

  constructor(
    private readonly base: URL,
    private readonly log: Logger,
    private readonly opts: TrtllmReaderOptions,
  ) {
    this.window.freshEngine = opts.freshEngine;
    this.window.drainerNote = opts.drainerNote ?? null;
    this.window.noOffloadCounters = opts.noOffloadCounters ?? null;
    if (!opts.readKvEvents) this.window.eventsFailed(opts.kvEventsOffReason ?? 'not read for this build');
    this.events = new KvEventsReader(new URL('/kv_cache_events', base));
    this.metricsLane = new Lane(async () => {
      const iters = await this.readMetrics();
      if (this.inWindow) this.window.addIterations(iters);
      else this.window.addPreWindow(iters);
    });
    this.eventsLane = new Lane(async () => {
      const ev = await this.readEvents();
      if (ev && this.inWindow) this.window.addEventCounts(ev.offloads, ev.onboards);
    });
    this.perfLane = new Lane(async () => {
      const perf = await this.readPerf();
      if (!this.inWindow) return; // requests of an earlier run
      for (const e of perf) {
        const last = e.perf_metrics?.last_iter;
        if (typeof last === 'number') this.window.sawIterationElsewhere(last);
      }
      this.perf.push(...perf);
      this.perfTotal += perf.length;
    });
  }

  private url(path: string) {
    return new URL(path, this.base);
  }

  private async readMetrics(): Promise<IterationStats[]> {
    try {
      const body = await httpJson<unknown>(this.url('/metrics'), { timeoutMs: 15_000 });
      this.metricsError = null;
      this.metricsReads++;
      return Array.isArray(body) ? (body as IterationStats[]) : [];
    } catch (err) {
      const msg = (err as Error).message;
      // Once per distinct failure: an engine without /metrics would otherwise log twice a second.
      if (msg !== this.metricsError) this.log.warn({ err: msg }, 'reading /metrics failed');
      this.metricsError = msg;
      return [];
    }
  }

  /** Offload/onboard counts from /kv_cache_events, parsed in a worker; null when not read. */
  private async readEvents(): Promise<{ offloads: number; onboards: number } | null> {
    if (!this.opts.readKvEvents) return null;
    if (this.window.iterationsWithIterStats > 0) {
      // kvCacheIterationStats carry the same counts (and bytes): the events are not needed.
      this.eventsSkipped = true;
      return null;
    }
    const r = await this.events.read();
    if (r.ok) return { offloads: r.offloads, onboards: r.onboards };
    this.window.eventsFailed(r.error);
    return null;
  }

  private async readPerf(): Promise<PerfEntry[]> {
    if (!this.opts.readPerfEndpoint || this.perfError?.includes('answered 404')) return [];
    try {
      const body = await httpJson<unknown>(this.url('/perf_metrics'), { timeoutMs: 15_000 });
      this.perfError = null;
      return Array.isArray(body) ? (body as PerfEntry[]) : [];
    } catch (err) {
      this.perfError = err instanceof HttpStatusError ? `GET /perf_metrics answered ${err.status}` : (err as Error).message;
      return [];
    }
  }

  private async readPrometheus(): Promise<PromText | null> {
    try {
      const res = await httpRequest(this.url('/prometheus/metrics'), { timeoutMs: 15_000 });
      return res.status === 200 ? parsePrometheusText(res.body) : null;
    } catch {
      return null; // older builds and other engines have no such endpoint
    }
  }

  private lanes(): Lane[] {
    return [this.metricsLane, this.eventsLane, this.perfLane];
  }

  async open(): Promise<void> {
    // Everything queued so far happened before this run's window (drained together: each may wait 2 s).
    const [prom] = await Promise.all([this.readPrometheus(), ...this.lanes().map((l) => l.kick())]);
    this.promBefore = prom;
    this.inWindow = true;
  }

  /** Starts a read on every idle endpoint and returns without waiting for the slow ones. */
  async poll(): Promise<void> {
    for (const l of this.lanes()) void l.kick();
  }

  async close(expectedPerfEntries: number): Promise<LogMetrics> {
    await Promise.all(this.lanes().map((l) => l.last()));
    // trtllm appends a request's perf entry after its stream ends, and iteration stats lag by an iteration.
    const deadline = Date.now() + 3_000;
    while (this.perfTotal > 0 && this.perfTotal < expectedPerfEntries && this.perfError === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      await this.perfLane.kick();
    }
    await Promise.all([this.metricsLane.last(), this.eventsLane.last()]);
    await this.events.close();
    if (this.promBefore && this.window.iterations === 0) this.promAfter = await this.readPrometheus();
    return this.current();
  }

  /** Stop the worker without a final read (the run failed). */
  async abandon(): Promise<void> {
    // Reads in flight end by their own timeouts; the worker goes now.
    await this.events.close();
  }

  current(): LogMetrics {
    const m = this.window.logMetrics();
    return this.promBefore && this.promAfter && this.window.iterations === 0 ? fillFromTrtllmPrometheus(m, this.promBefore, this.promAfter) : m;
  }

  takePerfEntries(): PerfEntry[] {
    const out = this.perf;
    this.perf = [];
    return out;
  }

  /** Observed in /metrics: whether the iterations carried kvCacheIterationStats, and whether another reader took some. */
  capabilities(): Capability[] {
    const w = this.window;
    const out: Capability[] = [];
    if (w.iterations > 0) {
      out.push(
        cap(
          'kv_iteration_stats',
          w.iterationsWithIterStats > 0,
          `observed: ${w.iterationsWithIterStats} of ${w.iterations} iterations in /metrics carried ${w.deltasKey ?? 'kvCacheIterationStats'}`,
          w.iterationsWithIterStats > 0 ? undefined : (w.noOffloadCounters ?? 'no per-iteration KV deltas in /metrics'),
        ),
      );
      out.push(cap('iteration_stats_collector_drains_metrics', w.lost() > 0, `observed: ${w.lost()} iteration(s) missing from the sequence kvbench read`));
    }
    return out;
  }

  describe(): Record<string, unknown> {
    return {
      reader: 'trtllm',
      metrics_reads: this.metricsReads,
      iterations: this.window.iterations,
      iterations_with_kv_deltas: this.window.iterationsWithIterStats,
      kv_deltas_key: this.window.deltasKey,
      kv_transfer_key: this.window.transferKey,
      iterations_lost: this.window.lost(),
      ...(this.window.duplicateIterations ? { iterations_repeated: this.window.duplicateIterations } : {}),
      ...(this.window.drainerNote ? { second_reader: this.window.drainerNote } : {}),
      perf_metrics_entries: this.perfTotal,
      ...(this.perfError ? { perf_metrics_error: this.perfError } : {}),
      ...(this.metricsError ? { metrics_error: this.metricsError } : {}),
      ...(this.window.eventsUnavailableReason ? { kv_cache_events_error: this.window.eventsUnavailableReason } : {}),
      kv_cache_events: !this.opts.readKvEvents
        ? `not read: ${this.opts.kvEventsOffReason ?? 'not needed for this build'}`
        : this.eventsSkipped
          ? 'not read once kvCacheIterationStats were seen'
          : this.window.eventsAvailable
            ? 'read (counts offloads/onboards)'
            : 'unavailable',
    };
  }
}
