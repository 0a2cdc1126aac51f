/**
 * Polls a TensorRT-LLM (or simulator) engine's statistics endpoints through the
 * run and sums them over the measured window.
 */
import type { LogMetrics, Logger } from '@kvbench/common';
import { httpJson, httpRequest, HttpStatusError } from '../http.js';
import type { PerfEntry } from './perf-metrics.js';
import type { StatsReader } from './reader.js';
import { KvEventsReader } from './kv-events-reader.js';
import { parsePrometheusText, type PromText } from './prometheus.js';
import { fillFromTrtllmPrometheus } from './trtllm-prometheus.js';
import { TrtllmWindow, type IterationStats } from './trtllm.js';

export class TrtllmStatsReader implements StatsReader {
  readonly window = new TrtllmWindow();
  private perf: PerfEntry[] = [];
  private perfTotal = 0;
  private perfError: string | null = null;
  private metricsError: string | null = null;
  private polls = 0;
  private busy: Promise<void> | null = null;
  private readonly events: KvEventsReader;
  /** /prometheus/metrics at window start and end (newer builds; the fallback when /metrics is drained by the engine itself). */
  private promBefore: PromText | null = null;
  private promAfter: PromText | null = null;
  /** Events are read only until iteration stats prove them unnecessary (they are large). */
  private eventsSkipped = false;

  constructor(
    private readonly base: URL,
    private readonly log: Logger,
    freshEngine: boolean,
  ) {
    this.window.freshEngine = freshEngine;
    this.events = new KvEventsReader(new URL('/kv_cache_events', base));
  }

  private url(path: string) {
    return new URL(path, this.base);
  }

  private async readMetrics(): Promise<IterationStats[]> {
    try {
      const body = await httpJson<unknown>(this.url('/metrics'), { timeoutMs: 15_000 });
      this.metricsError = null;
      return Array.isArray(body) ? (body as IterationStats[]) : [];
    } catch (err) {
      const msg = (err as Error).message;
      // Once per distinct failure: an engine without /metrics would otherwise log twice a second.
      if (msg !== this.metricsError) this.log.warn({ err: msg }, 'reading /metrics failed');
      this.metricsError = msg;
      return [];
    }
  }

  /** Offload/onboard counts from /kv_cache_events, parsed in a worker; null when unavailable. */
  private async readEvents(): Promise<{ offloads: number; onboards: number } | null> {
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

  async open(): Promise<void> {
    this.promBefore = await this.readPrometheus();
    // Everything queued so far happened before this run's window.
    this.window.addPreWindow(await this.readMetrics());
    await this.readEvents();
    await this.readPerf();
  }

  poll(): Promise<void> {
    // Never two reads at once: each read drains, and order matters for the sums.
    if (this.busy) return this.busy;
    this.busy = (async () => {
      try {
        const [iters, events, perf] = await Promise.all([this.readMetrics(), this.readEvents(), this.readPerf()]);
        this.window.addIterations(iters);
        if (events) this.window.addEventCounts(events.offloads, events.onboards);
        this.perf.push(...perf);
        this.perfTotal += perf.length;
        this.polls++;
      } finally {
        this.busy = null;
      }
    })();
    return this.busy;
  }

  async close(expectedPerfEntries: number): Promise<LogMetrics> {
    await this.poll();
    // trtllm appends a request's perf entry after its stream ends, and iteration stats lag by an iteration.
    const deadline = Date.now() + 3_000;
    while (this.perfTotal > 0 && this.perfTotal < expectedPerfEntries && this.perfError === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      await this.poll();
    }
    await this.poll();
    await this.events.close();
    if (this.promBefore && this.window.iterations === 0) this.promAfter = await this.readPrometheus();
    return this.current();
  }

  /** Stop the worker without a final read (the run failed). */
  async abandon(): Promise<void> {
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

  describe(): Record<string, unknown> {
    return {
      reader: 'trtllm',
      polls: this.polls,
      iterations: this.window.iterations,
      iterations_with_kvCacheIterationStats: this.window.iterationsWithIterStats,
      perf_metrics_entries: this.perfTotal,
      ...(this.perfError ? { perf_metrics_error: this.perfError } : {}),
      ...(this.metricsError ? { metrics_error: this.metricsError } : {}),
      ...(this.window.eventsUnavailableReason ? { kv_cache_events_error: this.window.eventsUnavailableReason } : {}),
      kv_cache_events: this.eventsSkipped ? 'not read once kvCacheIterationStats were seen' : this.window.eventsAvailable ? 'read (counts offloads/onboards)' : 'unavailable',
    };
  }
}
