/**
 * The per-request join: each finished request waits (briefly) for its engine-side record — a
 * GET /perf_metrics entry, or the trtllm.perf_metrics event on its own stream — and is published as a
 * sample with it, or without it and the reason. One object owns what was eight locals of the run.
 */
import type { KvConfig, Sample } from '@kvbench/common';
import { clientOnlyBreakdown, engineBreakdown, requestTokens } from './breakdown.js';
import type { CompletedRequest } from './replay.js';
import { joinPerfMetrics, perfEntryFromMetricsHeaders, serverMetrics, type ClockRelation, type JoinCandidate, type PerfEntry } from './stats/perf-metrics.js';

/** How long a finished sample waits for its /perf_metrics entry before it is published without it. */
export const JOIN_WAIT_MS = 3_000;

export interface PerRequestSource {
  /** Entries arrive later from an endpoint (GET /perf_metrics), so samples wait for them. */
  joinLater: boolean;
  /** Why samples carry no engine record when none arrives (null: the entry may still come by the endpoint). */
  noMetricsReason: string | null;
}

export class PerRequestJoin {
  private readonly pending: { cand: JoinCandidate; doneAtMs: number }[] = [];
  /** Every finished request, for late joins into the result. */
  private readonly joinable: JoinCandidate[] = [];
  private leftoverEntries: PerfEntry[] = [];
  private joined = 0;
  private readonly joinBy = new Map<string, number>();

  constructor(
    private readonly source: PerRequestSource,
    private readonly clock: ClockRelation,
    private readonly timeScale: number,
    private readonly kv: KvConfig,
    private readonly publish: (sample: Sample) => void,
  ) {}

  private attachEngineFigures(entry: PerfEntry, cand: JoinCandidate, by: string): void {
    const times = { scheduledAt: cand.scheduledAt, writtenAt: cand.writtenAt ?? null, firstTextAt: cand.firstTextAt };
    cand.sample.server = serverMetrics(entry, cand, this.clock, this.timeScale, by);
    cand.sample.breakdown = engineBreakdown(entry, times, this.clock, this.timeScale, by);
    cand.sample.tokens = requestTokens(cand.sample, entry, this.kv.tokens_per_block, null);
    this.joined++;
    const key = by.startsWith('stream') ? 'stream' : by.startsWith('time') ? 'time' : 'id';
    this.joinBy.set(key, (this.joinBy.get(key) ?? 0) + 1);
  }

  /** A sample published without its engine entry says why its engine-side parts are null. */
  private markUnjoined(c: JoinCandidate, why: string): void {
    if (c.sample.server !== null) return;
    const times = { scheduledAt: c.scheduledAt, writtenAt: c.writtenAt ?? null, firstTextAt: c.firstTextAt };
    c.sample.breakdown = clientOnlyBreakdown(times, this.timeScale, why);
    c.sample.tokens = requestTokens(c.sample, null, this.kv.tokens_per_block, why);
  }

  /** A request finished: its own stream may carry its metrics (TensorRT-LLM from PR #16668). */
  add(done: CompletedRequest): void {
    const cand: JoinCandidate = {
      sample: done.sample,
      responseId: done.outcome.responseId,
      scheduledAt: done.scheduledAt,
      writtenAt: done.outcome.sentAt,
      firstTextAt: done.outcome.firstTextAt,
      endAt: done.outcome.endAt,
    };
    const streamed = done.outcome.perfMetrics;
    const entry = streamed ? perfEntryFromMetricsHeaders(streamed) : null;
    if (entry) this.attachEngineFigures(entry, cand, 'stream (event trtllm.perf_metrics)');
    this.joinable.push(cand);
    this.pending.push({ cand, doneAtMs: Date.now() });
    if (!this.source.joinLater) this.flush([], false);
  }

  /** Join what arrived, publish the samples whose wait is over (all of them when final). */
  flush(entries: PerfEntry[], final: boolean): void {
    const all = [...this.leftoverEntries, ...entries];
    if (all.length) {
      const { pairs, unmatchedEntries } = joinPerfMetrics(all, this.joinable.filter((c) => c.sample.server === null), this.clock);
      for (const p of pairs) this.attachEngineFigures(p.entry, p.cand, p.by);
      this.leftoverEntries = unmatchedEntries;
    }
    const nowMs = Date.now();
    for (let i = 0; i < this.pending.length; ) {
      const p = this.pending[i]!;
      if (final || p.cand.sample.server !== null || nowMs - p.doneAtMs >= JOIN_WAIT_MS || !this.source.joinLater) {
        this.markUnjoined(
          p.cand,
          this.source.noMetricsReason ??
            (final ? 'no /perf_metrics entry was joined to this request by the end of the run' : `no /perf_metrics entry was joined to this request within ${JOIN_WAIT_MS / 1000} s of its end`),
        );
        this.publish(p.cand.sample);
        this.pending.splice(i, 1);
      } else i++;
    }
  }

  /** For run_meta.perf_metrics_join. */
  summary(samples: number): { joined: number; by: Record<string, number>; unjoined_samples: number; unmatched_entries: number } {
    return { joined: this.joined, by: Object.fromEntries(this.joinBy), unjoined_samples: samples - this.joined, unmatched_entries: this.leftoverEntries.length };
  }
}
