/**
 * Cache metrics of OpenAI-compatible engines (vLLM, SGLang) from their
 * Prometheus /metrics, as the difference of two snapshots taken at the start and
 * the end of the measured window. Both engines count prefix-cache reuse in
 * tokens, not blocks (token figures are added beside the block fields). Host
 * offload traffic (ENGINES.md): vLLM's offloading connector counts bytes and
 * seconds of each direction (two generations of names); SGLang's HiCache counts
 * backed-up and loaded-back tokens (and bytes on newer builds), turned into bytes
 * with the model's KV bytes per token where the engine gives none, and into blocks
 * of the run's tokens_per_block; SGLang times no copy, so it gives no bandwidth.
 */
import { logMetricsOf, unreadableLogMetrics, type LogMetrics, type Logger } from '@kvbench/common';
import { httpRequest } from '../http.js';
import { parsePrometheusText, seriesByLabel, sumSeries, type PromText } from './prometheus.js';
import type { PerfEntry } from './perf-metrics.js';
import type { StatsReader } from './reader.js';
import { cap, type Capability } from '../engine/capabilities.js';

type Flavor = 'vllm' | 'sglang' | 'unknown';

export function detectFlavor(p: PromText): Flavor {
  for (const s of p.samples) {
    if (s.name.startsWith('vllm:')) return 'vllm';
    if (s.name.startsWith('sglang:')) return 'sglang';
  }
  return 'unknown';
}

const delta = (a: number | null, b: number | null) => (a !== null && b !== null ? b - a : null);

/** What turns token counts into blocks and bytes. */
export interface OpenaiUnits {
  /** kvbench's block size for the run (its KV preset's tokens_per_block). */
  tokensPerBlock: number;
  kvBytesPerToken: number | null;
  /** Where kvBytesPerToken came from, or why it is unknown. */
  kvBytesSource: string;
}

const DTYPE_BYTES: Record<string, number> = { fp32: 4, fp16: 2, bf16: 2, fp8: 1, int8: 1 };

/**
 * The model's KV bytes per token, from engine option kv_bytes_per_token, or from model_shape
 * ("layers:kvheads:headdim:dtype", the simulator's notation): 2 (K and V) × layers × kv heads × head dim × bytes.
 */
export function kvBytesPerTokenOf(options: Record<string, unknown>): { kvBytesPerToken: number | null; kvBytesSource: string } {
  const direct = Number(options['kv_bytes_per_token']);
  if (options['kv_bytes_per_token'] !== undefined && Number.isFinite(direct) && direct > 0) return { kvBytesPerToken: direct, kvBytesSource: 'engine option kv_bytes_per_token' };
  const shape = options['model_shape'];
  if (typeof shape === 'string') {
    const [l, h, d, dt = 'bf16'] = shape.split(':');
    const bytes = 2 * Number(l) * Number(h) * Number(d) * (DTYPE_BYTES[dt.toLowerCase()] ?? NaN);
    if (Number.isFinite(bytes) && bytes > 0) return { kvBytesPerToken: bytes, kvBytesSource: `engine option model_shape ${shape}: 2 × layers × kv heads × head dim × dtype bytes` };
  }
  return { kvBytesPerToken: null, kvBytesSource: 'the model\'s KV bytes per token is unknown: give engine option kv_bytes_per_token (or model_shape layers:kvheads:headdim:dtype)' };
}

/** Window delta of the first of `names` present in both snapshots (counters may carry _total, histograms _sum). */
function counterDelta(before: PromText, after: PromText, names: string[], match: Record<string, string> = {}): { value: number; name: string } | null {
  for (const name of names) {
    const d = delta(sumSeries(before, name, match), sumSeries(after, name, match));
    if (d !== null) return { value: d, name };
  }
  return null;
}
const variants = (base: string) => [`${base}_total`, base, `${base}_sum`];

interface Direction {
  bytes: { value: number; source: string } | null;
  blocks: { value: number; source: string } | null;
  seconds: { value: number; source: string } | null;
  why: string;
}

/** vLLM offloading connector: bytes and seconds each way (ENGINES.md, vLLM). */
function vllmOffload(before: PromText, after: PromText, dir: 'store' | 'load'): Direction {
  const label = dir === 'store' ? 'GPU_to_CPU' : 'CPU_to_GPU';
  const labelled = (n: string) => `${n}{transfer_type="${label}"}`;
  const newBytes = counterDelta(before, after, variants(`vllm:kv_offload_${dir}_bytes`));
  const bytes = newBytes ?? counterDelta(before, after, variants('vllm:kv_offload_total_bytes'), { transfer_type: label });
  const seconds = newBytes
    ? counterDelta(before, after, variants(`vllm:kv_offload_${dir}_time`))
    : counterDelta(before, after, variants('vllm:kv_offload_total_time'), { transfer_type: label });
  const name = (x: { name: string } | null) => (x ? (newBytes ? x.name : labelled(x.name)) : '');
  return {
    bytes: bytes ? { value: bytes.value, source: `Δ ${name(bytes)} over the window (vLLM offloading connector)` } : null,
    blocks: null,
    seconds: seconds ? { value: seconds.value, source: `Δ ${name(seconds)}` } : null,
    why: bytes ? 'vLLM\'s connector counts bytes, not blocks' : 'no vllm:kv_offload_* series: vLLM runs without the offloading connector (host offload off)',
  };
}

/**
 * Why SGLang gives no transfer bandwidth: its duration histograms do not time the copies.
 * `eviction_duration_seconds` times the radix cache's eviction bookkeeping (mem_cache/base_prefix_cache.py
 * `update_eviction_metrics`), `load_back_duration_seconds` the enqueueing of the load-back (ENGINES.md, SGLang).
 */
export const SGLANG_NO_TRANSFER_TIME =
  "SGLang reports no transfer time: eviction_duration_seconds times the eviction bookkeeping (mem_cache/base_prefix_cache.py update_eviction_metrics) and load_back_duration_seconds the enqueue, not the copies; a bandwidth from them would be meaningless";

/**
 * SGLang HiCache (ENGINES.md, SGLang): GPU→host copies are `sglang:hicache_backup_tokens_total` (newer builds
 * also `sglang:hicache_backup_bytes_total`), host→GPU `sglang:load_back_tokens_total` (newer: a `pool` label,
 * and `sglang:load_back_bytes_total`). Never `sglang:evicted_tokens_total`: it counts every radix-cache eviction
 * from the device, HiCache or not (update_eviction_metrics), so it is not offload traffic.
 */
function sglangHicache(before: PromText, after: PromText, dir: 'backup' | 'load', units: OpenaiUnits): Direction {
  const tokensBase = dir === 'backup' ? 'sglang:hicache_backup_tokens' : 'sglang:load_back_tokens';
  const bytesBase = dir === 'backup' ? 'sglang:hicache_backup_bytes' : 'sglang:load_back_bytes';
  // Newer builds label the token counters by host pool (kv, swa, mamba): the KV pool's tokens are the KV traffic.
  const pooled = after.samples.some((x) => (x.name === `${tokensBase}_total` || x.name === tokensBase) && x.labels['pool'] !== undefined);
  const match: Record<string, string> = pooled ? { pool: 'kv' } : {};
  const tokens = counterDelta(before, after, variants(tokensBase), match);
  const ownBytes = counterDelta(before, after, variants(bytesBase));
  const tokenName = (t: { name: string }) => (pooled ? `${t.name}{pool="kv"}` : t.name);
  if (!tokens && !ownBytes) {
    return { bytes: null, blocks: null, seconds: null, why: `no ${tokensBase}_total: SGLang runs without HiCache (host offload off), or a build without HiCache metrics (sglang:evicted_tokens_total is every radix-cache eviction, not offload traffic)` };
  }
  const bytes = ownBytes
    ? { value: ownBytes.value, source: `Δ ${ownBytes.name} over the window (SGLang's own byte count)` }
    : tokens && units.kvBytesPerToken !== null
      ? { value: tokens.value * units.kvBytesPerToken, source: `Δ ${tokenName(tokens)} × ${units.kvBytesPerToken} KV bytes per token (${units.kvBytesSource})` }
      : null;
  return {
    bytes,
    blocks: tokens ? { value: tokens.value / units.tokensPerBlock, source: `Δ ${tokenName(tokens)} / ${units.tokensPerBlock} (tokens_per_block of the run's KV preset; SGLang counts tokens)` } : null,
    seconds: null,
    why: bytes ? SGLANG_NO_TRANSFER_TIME : units.kvBytesSource,
  };
}

const GB = 1e9;

function fillOffload(m: Record<string, unknown>, sources: Record<string, string>, nullReasons: Record<string, string>, out: Direction, back: Direction): void {
  const put = (field: string, v: { value: number; source: string } | null, why: string) => {
    m[field] = v ? v.value : null;
    if (v) sources[field] = v.source;
    else nullReasons[field] = why;
  };
  put('offloaded_bytes', out.bytes, out.why);
  put('onboarded_bytes', back.bytes, back.why);
  put('offloaded_blocks', out.blocks, out.why);
  put('onboarded_blocks', back.blocks, back.why);
  const bw = (d: Direction, what: string) => {
    if (!d.bytes) return null;
    if (!d.seconds) return { value: NaN, source: d.why === SGLANG_NO_TRANSFER_TIME ? SGLANG_NO_TRANSFER_TIME : `no ${what} transfer time series` };
    if (d.bytes.value === 0) return { value: NaN, source: `no ${what} in the window: nothing to measure` };
    if (!(d.seconds.value > 0)) return { value: NaN, source: `the engine reported no ${what} time for ${d.bytes.value} bytes` };
    return { value: d.bytes.value / d.seconds.value / GB, source: `${d.bytes.source} / ${d.seconds.source} (the engine's own transfer seconds), GB = 1e9 bytes` };
  };
  for (const [field, d, what, why] of [
    ['observed_offload_bandwidth_gbps', out, 'offload', out.why],
    ['observed_onboard_bandwidth_gbps', back, 'onboard', back.why],
  ] as const) {
    const r = bw(d, what);
    if (r && Number.isFinite(r.value)) put(field, r, '');
    else put(field, null, r ? r.source : why);
  }
}

export function openaiLogMetrics(before: PromText, after: PromText, units: OpenaiUnits = { tokensPerBlock: 64, kvBytesPerToken: null, kvBytesSource: 'not given' }): LogMetrics {
  const flavor = detectFlavor(after);
  const sources: Record<string, string> = {};
  const nullReasons: Record<string, string> = {};
  const m: LogMetrics & Record<string, unknown> = logMetricsOf(() => null, sources, nullReasons);
  const engineName = flavor === 'vllm' ? 'vLLM' : flavor === 'sglang' ? 'SGLang' : 'this engine';
  const noBlocks = `${engineName} counts prefix-cache reuse in tokens, not blocks (see reused_tokens)`;
  const noOffload = `${engineName} exposes no KV offload/onboard traffic in its Prometheus metrics`;

  if (flavor === 'vllm') {
    // vLLM's GPU prefix cache and its KV connector (e.g. host offload) count the same way, in tokens:
    // each pair of counters fills its own reused, queried and hit-rate figures. Returns whether there
    // was a rate (queries in the window), null when the counters are absent.
    const putPrefixCounters = (prefix: string, what: string, field: { reused: string; queried: string; rate: string }): boolean | null => {
      const q = delta(sumSeries(before, `${prefix}_queries_total`), sumSeries(after, `${prefix}_queries_total`));
      const h = delta(sumSeries(before, `${prefix}_hits_total`), sumSeries(after, `${prefix}_hits_total`));
      if (q === null || h === null) return null;
      m[field.reused] = h;
      m[field.queried] = q;
      sources[field.reused] = `${prefix}_hits_total, end − start of the window (${what})`;
      sources[field.queried] = `${prefix}_queries_total, end − start of the window (${what})`;
      if (!(q > 0)) return false;
      m[field.rate] = h / q;
      sources[field.rate] = `Δ ${prefix}_hits_total / Δ ${prefix}_queries_total (${what})`;
      return true;
    };
    const gpuRated = putPrefixCounters('vllm:prefix_cache', 'tokens, GPU prefix cache', { reused: 'reused_tokens', queried: 'queried_tokens', rate: 'cache_hit_rate' });
    if (gpuRated === null) nullReasons['cache_hit_rate'] = 'vllm:prefix_cache_queries_total / vllm:prefix_cache_hits_total absent (prefix caching off?)';
    else if (!gpuRated) nullReasons['cache_hit_rate'] = 'no prefix-cache queries in the window';
    putPrefixCounters('vllm:external_prefix_cache', 'tokens served by the KV connector, e.g. host offload', {
      reused: 'external_reused_tokens',
      queried: 'external_queried_tokens',
      rate: 'external_cache_hit_rate',
    });
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
  if (flavor === 'vllm') fillOffload(m, sources, nullReasons, vllmOffload(before, after, 'store'), vllmOffload(before, after, 'load'));
  else if (flavor === 'sglang') {
    const out = sglangHicache(before, after, 'backup', units);
    const back = sglangHicache(before, after, 'load', units);
    fillOffload(m, sources, nullReasons, out, back);
    // Blocks without bytes still need their own reason (the model's KV size), and a bandwidth the true one.
    for (const [f, d] of [['observed_offload_bandwidth_gbps', out], ['observed_onboard_bandwidth_gbps', back]] as const) {
      if (d.bytes && m[f] === null) nullReasons[f] = SGLANG_NO_TRANSFER_TIME;
    }
  }
  else for (const f of ['offloaded_blocks', 'onboarded_blocks', 'offloaded_bytes', 'onboarded_bytes', 'observed_offload_bandwidth_gbps', 'observed_onboard_bandwidth_gbps']) nullReasons[f] = noOffload;
  return m;
}

/** Counters whose movement after the last response matters (offload traffic, prefix-cache counts). */
const SETTLE_COUNTERS = /(kv_offload|hicache_backup|load_back|prefix_cache|cached_tokens|prompt_tokens)/;

function counterFingerprint(p: PromText | null): string {
  if (!p) return '';
  return p.samples
    .filter((x) => SETTLE_COUNTERS.test(x.name) && !x.name.endsWith('_created') && !x.name.endsWith('_bucket'))
    .map((x) => `${x.name}${JSON.stringify(x.labels)}=${x.value}`)
    .sort()
    .join('\n');
}

export interface SettleOptions {
  /** Give up waiting after this long (the window then says the counters had not settled). */
  maxMs: number;
  /** Time between reads while waiting. */
  intervalMs: number;
  /** Settled: unchanged over this many consecutive reads … */
  quietReads: number;
  /** … spanning at least this long. */
  quietMs: number;
}

export class PrometheusStatsReader implements StatsReader {
  private first: PromText | null = null;
  private last: PromText | null = null;
  private error: string | null = null;
  private polls = 0;
  private settle: { settled: boolean; waited_ms: number; reads: number; max_ms: number } | null = null;
  private readonly settleOpts: SettleOptions;

  constructor(
    private readonly base: URL,
    private readonly log: Logger,
    private readonly units?: OpenaiUnits,
    settle: Partial<SettleOptions> = {},
  ) {
    this.settleOpts = { maxMs: 15_000, intervalMs: 250, quietReads: 3, quietMs: 1_000, ...settle };
  }

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

  /**
   * The window's last read waits until the counters stop moving: vLLM's offloading connector stores a
   * finished request's KV after the request ends (ENGINES.md, vLLM), so a read right after the last
   * response misses the last requests' bytes. Bounded; whether they settled goes into run_meta.
   */
  async close(): Promise<LogMetrics> {
    await this.poll();
    const o = this.settleOpts;
    const start = Date.now();
    let reads = 0;
    let quiet = 0;
    let quietSince = Date.now();
    let prev = counterFingerprint(this.last);
    let settled = false;
    while (Date.now() - start < o.maxMs) {
      await new Promise((r) => setTimeout(r, o.intervalMs));
      await this.poll();
      reads++;
      const cur = counterFingerprint(this.last);
      if (cur === prev) quiet++;
      else {
        quiet = 0;
        quietSince = Date.now();
        prev = cur;
      }
      if (quiet >= o.quietReads && Date.now() - quietSince >= o.quietMs) {
        settled = true;
        break;
      }
    }
    this.settle = { settled, waited_ms: Date.now() - start, reads, max_ms: o.maxMs };
    if (!settled) this.log.warn({ waited_ms: this.settle.waited_ms }, 'engine counters still moving at the end of the window');
    return this.current();
  }
  current(): LogMetrics {
    if (this.first && this.last) return openaiLogMetrics(this.first, this.last, this.units);
    return unreadableLogMetrics(`Prometheus /metrics not readable${this.error ? ` (${this.error})` : ''}`);
  }
  takePerfEntries(): PerfEntry[] {
    return [];
  }
  /** Observed in /metrics: which counter families the engine exports (what the figures can rest on). */
  capabilities(): Capability[] {
    const p = this.last ?? this.first;
    if (!p) return [];
    const has = (name: string) => p.samples.some((x) => x.name === name || x.name === `${name}_total`);
    const flavor = detectFlavor(p);
    const how = (names: string[]) => `observed: ${names.filter(has).map((n) => `${n}_total`).join(', ') || 'none of ' + names.join(', ')} in /metrics`;
    if (flavor === 'vllm') {
      const off = ['vllm:kv_offload_store_bytes', 'vllm:kv_offload_load_bytes', 'vllm:kv_offload_total_bytes'];
      const time = ['vllm:kv_offload_store_time', 'vllm:kv_offload_load_time', 'vllm:kv_offload_total_time'];
      return [
        cap('prefix_cache_counters', has('vllm:prefix_cache_queries'), how(['vllm:prefix_cache_queries', 'vllm:prefix_cache_hits'])),
        cap('offload_bytes', off.some(has), how(off), off.some(has) ? undefined : 'no offloading connector'),
        cap('offload_transfer_time', time.some(has), how(time)),
      ];
    }
    if (flavor === 'sglang') {
      const tok = ['sglang:hicache_backup_tokens', 'sglang:load_back_tokens'];
      const bytes = ['sglang:hicache_backup_bytes', 'sglang:load_back_bytes'];
      return [
        cap('hicache_transfer_tokens', tok.some(has), how(tok), tok.some(has) ? undefined : 'no HiCache (sglang:evicted_tokens_total is not offload traffic)'),
        cap('hicache_transfer_bytes', bytes.some(has), how(bytes), bytes.some(has) ? undefined : 'older build: bytes from tokens × the model\'s KV bytes per token'),
        cap('offload_transfer_time', false, 'SGLang source: the *_duration_seconds histograms', SGLANG_NO_TRANSFER_TIME),
      ];
    }
    return [];
  }

  describe(): Record<string, unknown> {
    return {
      reader: 'prometheus',
      flavor: this.last ? detectFlavor(this.last) : null,
      polls: this.polls,
      ...(this.settle ? { counters_settled: this.settle.settled, settle_waited_ms: this.settle.waited_ms, settle_reads: this.settle.reads, settle_max_ms: this.settle.max_ms } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }
}
