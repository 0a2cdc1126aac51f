import { z } from 'zod';
import { ValidationError } from '../errors.js';
import type { KvOverrides } from './job.js';

/** Resolved KV-cache offload configuration of one system. */
export const KvConfig = z.object({
  gpu_kv_max_tokens: z.number().int().positive().describe('GPU KV-cache pool, in tokens'),
  tokens_per_block: z.number().int().positive().describe('tokens per KV-cache block'),
  host_cache_gb: z.number().nonnegative().describe('host memory for offloaded KV blocks, in GiB'),
  enable_reuse: z.boolean().describe('reuse cached KV blocks of a repeated prefix'),
});
export type KvConfig = z.infer<typeof KvConfig>;

/** The original config_pcie.py / config_c2c.py defaults. */
export const CONFIG_PRESETS: Readonly<Record<string, KvConfig>> = Object.freeze({
  config_pcie: { gpu_kv_max_tokens: 4096, tokens_per_block: 64, host_cache_gb: 32, enable_reuse: true },
  config_c2c: { gpu_kv_max_tokens: 2048, tokens_per_block: 64, host_cache_gb: 64, enable_reuse: true },
});

export function presetNames(): string[] {
  return Object.keys(CONFIG_PRESETS);
}

/** Preset + overrides → the configuration the engine is started with. */
export function resolveKvConfig(configModule: string, overrides: KvOverrides = {}): KvConfig {
  const preset = CONFIG_PRESETS[configModule];
  if (!preset) {
    throw new ValidationError(
      `unknown config preset '${configModule}'; valid presets: ${presetNames().join(', ')}`,
      'config_module',
    );
  }
  const merged: KvConfig = { ...preset };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  return KvConfig.parse(merged);
}

/** host_cache_gb as TensorRT-LLM's host_cache_size, which is in bytes (GiB × 1024³). */
export function hostCacheBytes(cfg: KvConfig): number {
  return Math.round(cfg.host_cache_gb * 1024 ** 3);
}

/**
 * TensorRT-LLM cannot serve a request whose KV does not fit the GPU pool: it reduces
 * max_seq_len to what `max_tokens` holds and refuses longer requests (the original
 * presets, 4096 and 2048 tokens, cannot hold its own 32K-128K workloads). Returns the
 * smallest pool that holds the largest request, or null when it already fits.
 */
export function requiredGpuKvTokens(cfg: KvConfig, largestRequestTokens: number): number | null {
  const needed = Math.ceil(largestRequestTokens / cfg.tokens_per_block) * cfg.tokens_per_block;
  return cfg.gpu_kv_max_tokens >= needed ? null : needed;
}
