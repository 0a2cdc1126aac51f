/**
 * The engine configuration file (`trtllm-serve --config file.yaml`), built from
 * the resolved KV preset. Key names and units are TensorRT-LLM's: host_cache_size
 * is in bytes, max_tokens is the GPU pool in tokens. TensorRT-LLM rejects unknown
 * keys, so nothing else goes in.
 */
import { stringify } from 'yaml';
import { hostCacheBytes, type KvConfig } from '@kvbench/common';

export interface TrtllmConfigOptions {
  /** Size of the /perf_metrics queue; must hold every request between two reads. */
  perfMetricsMaxRequests: number;
  /** Size of the KV-event buffer; must hold every event between two reads of /kv_cache_events. */
  eventBufferMaxSize: number;
  /**
   * Written only when set. TensorRT-LLM rejects a prompt longer than max_num_tokens (default 8192)
   * unless chunked prefill is on, so kvbench turns it on when max_seq_len exceeds max_num_tokens.
   */
  enableChunkedPrefill?: boolean;
}

export interface TrtllmConfig {
  kv_cache_config: {
    enable_block_reuse: boolean;
    max_tokens: number;
    tokens_per_block: number;
    host_cache_size: number;
    event_buffer_max_size: number;
  };
  enable_iter_perf_stats: true;
  return_perf_metrics: true;
  perf_metrics_max_requests: number;
  enable_chunked_prefill?: boolean;
}

export function trtllmConfig(kv: KvConfig, opts: TrtllmConfigOptions): TrtllmConfig {
  return {
    kv_cache_config: {
      enable_block_reuse: kv.enable_reuse,
      max_tokens: kv.gpu_kv_max_tokens,
      tokens_per_block: kv.tokens_per_block,
      host_cache_size: hostCacheBytes(kv),
      event_buffer_max_size: opts.eventBufferMaxSize,
    },
    enable_iter_perf_stats: true,
    return_perf_metrics: true,
    perf_metrics_max_requests: opts.perfMetricsMaxRequests,
    ...(opts.enableChunkedPrefill !== undefined ? { enable_chunked_prefill: opts.enableChunkedPrefill } : {}),
  };
}

export function trtllmConfigYaml(cfg: TrtllmConfig): string {
  return stringify(cfg);
}
