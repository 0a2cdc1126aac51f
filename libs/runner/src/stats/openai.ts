/**
 * Cache metrics of OpenAI-compatible engines (vLLM, SGLang) from their
 * Prometheus /metrics, as the difference of two snapshots taken at the start and
 * the end of the measured window. Both engines count prefix-cache reuse in
 * tokens, not blocks, and expose no host-offload traffic in these series, so the
 * block and bandwidth fields are null with that reason; token figures are added
 * beside them.
 */
import type { LogMetrics, Logger } from '@kvbench/common';
import { httpRequest } from '../http.js';
import { parsePrometheusText, seriesByLabel, sumSeries, type PromText } from './prometheus.js';
import type { PerfEntry } from './perf-metrics.js';
import type { StatsReader } from './reader.js';

type Flavor = 'vllm' | 'sglang' | 'unknown';

export function detectFlavor(p: PromText): Flavor {
  for (const s of p.samples) {
    if (s.name.startsWith('vllm:')) return 'vllm';
    if (s.name.startsWith('sglang:')) return 'sglang';
  }
  return 'unknown';
}

const delta = (a: number | null, b: number | null) => (a !== null && b !== null ? b - a : null);

export function openaiLogMetrics(before: PromText, after: PromText): LogMetrics {
  const flavor = detectFlavor(after);
  const sources: Record<string, string> = {};
  const nullReasons: Record<string, string> = {};
  const m: LogMetrics & Record<string, unknown> = {
    cache_hit_rate: null,
    reused_blocks: null,
    offloaded_blocks: null,
    observed_offload_bandwidth_gbps: null,
    onboarded_blocks: null,
    offloaded_bytes: null,
    onboarded_bytes: null,
    observed_onboard_bandwidth_gbps: null,
    sources,
    null_reasons: nullReasons,
  };
  const engineName = flavor === 'vllm' ? 'vLLM' : flavor === 'sglang' ? 'SGLang' : 'this engine';
  const noBlocks = `${engineName} counts prefix-cache reuse in tokens, not blocks (see reused_tokens)`;
  const noOffload = `${engineName} exposes no KV offload/onboard traffic in its Prometheus metrics`;

  if (flavor === 'vllm') {
    // vLLM's GPU prefix cache and its KV connector (e.g. host offload) count the same way, in tokens.
    const prefixCounters = (prefix: string, what: string) => {
      const q = delta(sumSeries(before, `${prefix}_queries_total`), sumSeries(after, `${prefix}_queries_total`));
      const h = delta(sumSeries(before, `${prefix}_hits_total`), sumSeries(after, `${prefix}_hits_total`));
      if (q === null || h === null) return null;
      return { q, h, sourceOf: (k: 'hits' | 'queries') => `${prefix}_${k}_total, end − start of the window (${what})`, rate: `Δ ${prefix}_hits_total / Δ ${prefix}_queries_total (${what})` };
    };
    const gpu = prefixCounters('vllm:prefix_cache', 'tokens, GPU prefix cache');
    if (gpu) {
      m.reused_tokens = gpu.h;
      m.queried_tokens = gpu.q;
      sources['reused_tokens'] = gpu.sourceOf('hits');
      sources['queried_tokens'] = gpu.sourceOf('queries');
      if (gpu.q > 0) {
        m.cache_hit_rate = gpu.h / gpu.q;
        sources['cache_hit_rate'] = gpu.rate;
      } else nullReasons['cache_hit_rate'] = 'no prefix-cache queries in the window';
    } else nullReasons['cache_hit_rate'] = 'vllm:prefix_cache_queries_total / vllm:prefix_cache_hits_total absent (prefix caching off?)';
    const ext = prefixCounters('vllm:external_prefix_cache', 'tokens served by the KV connector, e.g. host offload');
    if (ext) {
      m.external_reused_tokens = ext.h;
      m.external_queried_tokens = ext.q;
      sources['external_reused_tokens'] = ext.sourceOf('hits');
      sources['external_queried_tokens'] = ext.sourceOf('queries');
      if (ext.q > 0) {
        m.external_cache_hit_rate = ext.h / ext.q;
        sources['external_cache_hit_rate'] = ext.rate;
      }
    }
  } else if (flavor === 'sglang') {
    const bySourceBefore = seriesByLabel(before, 'sglang:cached_tokens_total', 'cache_source');
    const bySourceAfter = seriesByLabel(after, 'sglang:cached_tokens_total', 'cache_source');
    if (bySourceAfter.size > 0) {
      const bySource: Record<string, number> = {};
      let total = 0;
      for (const [src, v] of bySourceAfter) {
        const d = v - (bySourceBefore.get(src) ?? 0);
        bySource[src] = d;
        total += d;
      }
      m.reused_tokens = total;
      m.reused_tokens_by_source = bySource;
      sources['reused_tokens'] = 'sglang:cached_tokens_total summed over cache_source, end − start of the window (tokens)';
      sources['reused_tokens_by_source'] = 'sglang:cached_tokens_total{cache_source=...}, end − start of the window (tokens)';
    }
    const prompt = delta(sumSeries(before, 'sglang:prompt_tokens_total'), sumSeries(after, 'sglang:prompt_tokens_total'));
    const gauge = sumSeries(after, 'sglang:cache_hit_rate');
    if (prompt !== null && prompt > 0 && typeof m.reused_tokens === 'number') {
      m.cache_hit_rate = m.reused_tokens / prompt;
      sources['cache_hit_rate'] = 'Δ sglang:cached_tokens_total / Δ sglang:prompt_tokens_total over the window (tokens)';
    } else if (gauge !== null) {
      m.cache_hit_rate = gauge;
      sources['cache_hit_rate'] = 'sglang:cache_hit_rate at the end of the window (the engine\'s own running figure, not limited to the window)';
    } else nullReasons['cache_hit_rate'] = 'neither sglang:cached_tokens_total with sglang:prompt_tokens_total nor sglang:cache_hit_rate present';
  } else {
    nullReasons['cache_hit_rate'] = 'no vllm: or sglang: series in /metrics';
  }
  nullReasons['reused_blocks'] = noBlocks;
  nullReasons['offloaded_blocks'] = noOffload;
  nullReasons['onboarded_blocks'] = noOffload;
  nullReasons['offloaded_bytes'] = noOffload;
  nullReasons['onboarded_bytes'] = noOffload;
  nullReasons['observed_offload_bandwidth_gbps'] = noOffload;
  nullReasons['observed_onboard_bandwidth_gbps'] = noOffload;
  return m;
}

export class PrometheusStatsReader implements StatsReader {
  private first: PromText | null = null;
  private last: PromText | null = null;
  private error: string | null = null;
  private polls = 0;

  constructor(
    private readonly base: URL,
    private readonly log: Logger,
  ) {}

  private async snapshot(): Promise<PromText | null> {
    try {
      const res = await httpRequest(new URL('/metrics', this.base), { timeoutMs: 15_000 });
      if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
      this.polls++;
      return parsePrometheusText(res.body);
    } catch (err) {
      const msg = (err as Error).message;
      if (msg !== this.error) this.log.warn({ err: msg }, 'reading Prometheus /metrics failed');
      this.error = msg;
      return null;
    }
  }

  async open(): Promise<void> {
    this.first = await this.snapshot();
  }
  async poll(): Promise<void> {
    this.last = (await this.snapshot()) ?? this.last;
  }
  async close(): Promise<LogMetrics> {
    await this.poll();
    return this.current();
  }
  current(): LogMetrics {
    if (this.first && this.last) return openaiLogMetrics(this.first, this.last);
    const reason = `Prometheus /metrics not readable${this.error ? ` (${this.error})` : ''}`;
    const fields = ['cache_hit_rate', 'reused_blocks', 'offloaded_blocks', 'observed_offload_bandwidth_gbps', 'onboarded_blocks', 'offloaded_bytes', 'onboarded_bytes', 'observed_onboard_bandwidth_gbps'];
    return {
      cache_hit_rate: null,
      reused_blocks: null,
      offloaded_blocks: null,
      observed_offload_bandwidth_gbps: null,
      onboarded_blocks: null,
      offloaded_bytes: null,
      onboarded_bytes: null,
      observed_onboard_bandwidth_gbps: null,
      sources: {},
      null_reasons: Object.fromEntries(fields.map((f) => [f, reason])),
    };
  }
  takePerfEntries(): PerfEntry[] {
    return [];
  }
  describe(): Record<string, unknown> {
    return { reader: 'prometheus', flavor: this.last ? detectFlavor(this.last) : null, polls: this.polls, ...(this.error ? { error: this.error } : {}) };
  }
}
