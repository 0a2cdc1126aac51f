/**
 * How late the simulator was against its own model in a real-time run, per request: the time its
 * host spent taking the request in (parsing, tokenizing: /perf_metrics `sim.intake_s`) plus how
 * late its first token was handed to the socket (`sim.first_token_sent_time` − `first_token_time`).
 * The model has neither, so both are the host's, not the modelled hardware's. A run whose median
 * lateness exceeds `threshold_share` of its TTFT p50 is host-bound: its verdicts say so
 * (run_meta.host_bound, run_meta.host_lateness; docs/DESIGN.md "Virtual clock").
 */
import type { PerfEntry } from './stats/perf-metrics.js';

/** A few percent of the TTFT being compared. */
export const HOST_BOUND_SHARE = 0.03;

export interface HostLateness {
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  share_of_ttft_p50: number | null;
  threshold_share: number;
  reason: string;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export class HostLatenessMeter {
  /** Modelled seconds of lateness, one per request. */
  private readonly late: number[] = [];
  private missing = 0;

  constructor(private readonly timeScale: number) {}

  /** One joined /perf_metrics entry of the simulator. */
  add(e: PerfEntry): void {
    const sim = (e as Record<string, unknown>)['sim'] as Record<string, unknown> | undefined;
    const sent = num(sim?.['first_token_sent_time']);
    const due = num(e.perf_metrics?.timing_metrics?.first_token_time);
    const intake = num(sim?.['intake_s']) ?? 0;
    if (sent === null || due === null) {
      this.missing++;
      return;
    }
    // Real seconds → modelled seconds, the unit of the TTFTs they are compared with. Early is not negative lateness.
    this.late.push((Math.max(0, sent - due) + Math.max(0, intake)) / this.timeScale);
  }

  /** The run_meta figures, against the run's TTFT p50 (modelled seconds). */
  summary(ttftP50S: number | null): { host_bound: boolean | null; host_lateness: HostLateness | null } {
    if (this.late.length === 0) return { host_bound: null, host_lateness: null };
    const s = [...this.late].sort((a, b) => a - b);
    const p50 = quantile(s, 0.5);
    const share = ttftP50S !== null && ttftP50S > 0 ? p50 / ttftP50S : null;
    const host_bound = share === null ? null : share > HOST_BOUND_SHARE;
    const ms = (x: number) => Math.round(x * 1e6) / 1e3;
    return {
      host_bound,
      host_lateness: {
        p50_ms: ms(p50),
        p99_ms: ms(quantile(s, 0.99)),
        max_ms: ms(s[s.length - 1]!),
        share_of_ttft_p50: share === null ? null : Math.round(share * 1e4) / 1e4,
        threshold_share: HOST_BOUND_SHARE,
        reason:
          `per request: the simulator's intake (parse, tokenize) plus its first token's lateness against the model, in modelled ms, over ${s.length} request(s)` +
          (this.missing ? ` (${this.missing} without a send time)` : '') +
          (share === null ? '; no TTFT p50 to compare with' : host_bound ? `; p50 above ${HOST_BOUND_SHARE * 100}% of the TTFT p50: the host, not the model, shaped these times` : ''),
      },
    };
  }
}
