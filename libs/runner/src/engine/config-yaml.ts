/**
 * The engine configuration file (`trtllm-serve --config file.yaml`, or
 * `--extra_llm_api_options` on older builds), built from the resolved KV preset
 * for the installed build. Key names and units are TensorRT-LLM's: host_cache_size
 * is in bytes, max_tokens is the GPU pool in tokens. Every config model forbids
 * unknown keys (ENGINES.md, "Facts that hold across versions"), so only keys the
 * build accepts go in; what had to stay out is returned with its consequence.
 */
import { stringify } from 'yaml';
import { hostCacheBytes, type KvConfig } from '@kvbench/common';
import type { TrtllmCapabilities } from './trtllm-build.js';

export interface TrtllmConfigOptions {
  /** Size of the /perf_metrics queue; must hold every request between two reads. */
  perfMetricsMaxRequests: number;
  /** Size of the KV-event buffer (0: no events built; see ENGINES.md on event_buffer_max_size). */
  eventBufferMaxSize: number;
  /**
   * Written only when set. TensorRT-LLM rejects a prompt longer than max_num_tokens (default 8192)
   * unless chunked prefill is on, so kvbench turns it on when max_seq_len exceeds max_num_tokens.
   */
  enableChunkedPrefill?: boolean;
  /**
   * GPU memory share of the KV cache. Inside kv_cache_config: the CLI flag's KvCacheConfig is replaced
   * whole by the YAML's (`llm_args | yaml_dict`, ENGINES.md), so the flag would be lost.
   */
  freeGpuMemoryFraction?: number;
  /** return_perf_metrics (per-request metrics); default on. */
  returnPerfMetrics?: boolean;
  /** What the installed build accepts; default: every key (the simulator). */
  capabilities?: TrtllmCapabilities;
}

export interface TrtllmConfig {
  kv_cache_config: {
    enable_block_reuse: boolean;
    max_tokens: number;
    tokens_per_block?: number;
    host_cache_size: number;
    event_buffer_max_size?: number;
    free_gpu_memory_fraction?: number;
  };
  enable_iter_perf_stats: true;
  return_perf_metrics?: boolean;
  perf_metrics_max_requests?: number;
  enable_chunked_prefill?: boolean;
}

/** A key kvbench would have written but left out for this build, and what that costs. */
export interface LeftOut {
  key: string;
  reason: string;
  consequence: string;
}

export function trtllmConfigFor(kv: KvConfig, opts: TrtllmConfigOptions): { config: TrtllmConfig; leftOut: LeftOut[] } {
  const caps = opts.capabilities;
  const leftOut: LeftOut[] = [];
  const kvc: TrtllmConfig['kv_cache_config'] = {
    enable_block_reuse: kv.enable_reuse,
    max_tokens: kv.gpu_kv_max_tokens,
    host_cache_size: hostCacheBytes(kv),
  };
  if (!caps || caps.tokensPerBlockKey) kvc.tokens_per_block = kv.tokens_per_block;
  else {
    leftOut.push({
      key: 'kv_cache_config.tokens_per_block',
      reason: 'this build predates the key (PR #5911, about 2025-09-08): extra="forbid" would refuse the config',
      consequence: `the engine uses its own default block size, not ${kv.tokens_per_block} tokens: block counts are in the engine's blocks and are not comparable with runs at ${kv.tokens_per_block}`,
    });
  }
  if (opts.eventBufferMaxSize > 0) kvc.event_buffer_max_size = opts.eventBufferMaxSize;
  if (opts.freeGpuMemoryFraction !== undefined) kvc.free_gpu_memory_fraction = opts.freeGpuMemoryFraction;

  const config: TrtllmConfig = { kv_cache_config: kvc, enable_iter_perf_stats: true };
  const perf = opts.returnPerfMetrics ?? true;
  if (perf) config.return_perf_metrics = true;
  if (perf && (!caps || caps.perfMetricsEndpoint)) config.perf_metrics_max_requests = opts.perfMetricsMaxRequests;
  else if (perf && caps && !caps.perfMetricsByStream) {
    leftOut.push({
      key: 'perf_metrics_max_requests',
      reason: 'this build predates the key and GET /perf_metrics (PR #6985): extra="forbid" would refuse the config',
      consequence: 'no per-request server metrics: every sample.server is null',
    });
  } else if (perf && caps?.perfMetricsByStream) {
    leftOut.push({
      key: 'perf_metrics_max_requests',
      reason: 'deprecated on this build: per-request metrics are "no longer retained in memory"',
      consequence: 'per-request metrics are asked for with the X-TRTLLM-return-metrics header and read from the trailing trtllm.perf_metrics SSE event',
    });
  }
  if (opts.enableChunkedPrefill !== undefined) config.enable_chunked_prefill = opts.enableChunkedPrefill;
  return { config, leftOut };
}

/** Every key, as the simulator accepts them (kept for callers that build a config without a build). */
export function trtllmConfig(kv: KvConfig, opts: TrtllmConfigOptions): TrtllmConfig {
  return trtllmConfigFor(kv, opts).config;
}

export function trtllmConfigYaml(cfg: TrtllmConfig): string {
  return stringify(cfg);
}
