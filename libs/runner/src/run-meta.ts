/**
 * The parts of run_meta that describe a run's setup (engine, config, workload, pools), built once the
 * engine is up; and the workload's largest request (checked against max_seq_len before a launch).
 */
import { PERCENTILE_METHOD, type AnyWorkload, type Job, type KvConfig, type RunMeta } from '@kvbench/common';
import { requestCount } from '@kvbench/workload';
import type { EngineHandle } from './engine/start.js';
import type { RunContext } from './run.js';

/** The request needing the longest sequence: its prompt and output tokens (a scenario request may set its own output). */
export function largestRequest(workload: AnyWorkload, job: Job): { promptTokens: number; outputTokens: number } {
  const tokens = new Map(workload.prompts.map((p) => [p.id, p.tokens]));
  const requests = workload.version === 2 ? workload.requests : workload.batches.flatMap((b) => b.requests);
  let best = { promptTokens: 0, outputTokens: job.output_tokens };
  for (const r of requests) {
    const out = ('output_tokens' in r && typeof r.output_tokens === 'number' ? r.output_tokens : undefined) ?? job.output_tokens;
    const p = tokens.get(r.prompt_id) ?? 0;
    if (p + out > best.promptTokens + best.outputTokens) best = { promptTokens: p, outputTokens: out };
  }
  return best;
}

export function buildRunMeta(a: {
  ctx: RunContext;
  kv: KvConfig;
  engine: EngineHandle;
  simulated: boolean;
  timeScale: number;
  startedAt: string;
  env: unknown;
  version: string | null;
  commit: string | null;
  linkCheck: unknown;
}): RunMeta {
  const { job, workload } = a.ctx;
  const e = a.engine;
  const requests = requestCount(workload);
  return {
    run_id: job.run_id,
    attempt: a.ctx.attempt,
    system_label: job.system_label,
    model: job.model,
    workload_id: job.workload_id,
    simulated: a.simulated,
    percentile_method: PERCENTILE_METHOD,
    config_module: job.config_module,
    overrides: job.overrides,
    kv_config: a.kv,
    engine_config: e.config,
    engine_config_yaml: e.configYaml,
    engine: {
      kind: job.engine.kind,
      version: e.version.version,
      reported_engine: e.version.engine,
      url: e.url.href,
      profile: e.profile,
      launched: e.launched,
      argv: e.argv,
      log_path: e.process?.logPath ?? null,
      config_path: e.configPath,
      options: job.engine.options,
      ...(e.build ? { build: e.build } : {}),
      ...(e.leftOut.length ? { left_out: e.leftOut } : {}),
      ...(e.openai ? { detected: e.openai } : {}),
      per_request_metrics: e.perRequestMetrics,
      capabilities: e.capabilities,
    },
    max_batch_size: job.max_batch_size,
    max_seq_len: job.max_seq_len,
    output_tokens: job.output_tokens,
    temperature: job.temperature,
    top_p: job.top_p,
    notes: job.notes,
    time_scale: a.timeScale,
    started_at: a.startedAt,
    ended_at: null,
    kvbench_version: a.version,
    git_commit: a.commit,
    ...(a.version === null || a.commit === null
      ? { absent: [...(a.version === null ? ['kvbench_version'] : []), ...(a.commit === null ? ['git_commit'] : [])] }
      : {}),
    kv_pools: kvPools(a.kv, e),
    environment: a.env,
    ...(a.linkCheck !== undefined ? { link_check: a.linkCheck } : {}),
    ...a.ctx.agent?.runMeta,
    workload: {
      tokenizer: workload.tokenizer,
      prompts: workload.prompts.length,
      batches: workload.version === 2 ? 0 : workload.batches.length,
      requests,
      params: workload.params,
      ...(workload.version === 2 ? { kind: workload.kind, max_concurrency: workload.max_concurrency, token_space: workload.token_space, sweep: workload.sweep } : {}),
    },
  };
}

/**
 * The KV pools in blocks, for the hit-rate prediction: as the engine reports them (the simulator's
 * /version gives gpu_blocks, host_blocks and block_bytes), else the GPU pool from the configuration
 * (max_tokens / tokens_per_block, an upper bound: TensorRT-LLM may make it smaller to fit memory)
 * and the host cache unknown in blocks (its bytes per block depend on the model).
 */
function kvPools(kv: KvConfig, e: EngineHandle): Record<string, unknown> {
  const raw = e.version.raw as Record<string, unknown>;
  const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null);
  if (int(raw['gpu_blocks']) !== null && int(raw['tokens_per_block'])) {
    return {
      gpu_blocks: int(raw['gpu_blocks']),
      host_blocks: int(raw['host_blocks']),
      tokens_per_block: int(raw['tokens_per_block']),
      block_bytes: int(raw['block_bytes']),
      ...(typeof raw['h2d_block_gbps'] === 'number' ? { h2d_block_gbps: raw['h2d_block_gbps'] } : {}),
      ...(typeof raw['d2h_block_gbps'] === 'number' ? { d2h_block_gbps: raw['d2h_block_gbps'] } : {}),
      ...(typeof raw['bidirectional_gbps'] === 'number' ? { bidirectional_gbps: raw['bidirectional_gbps'] } : {}),
      source: 'engine GET /version',
    };
  }
  return {
    gpu_blocks: Math.floor(kv.gpu_kv_max_tokens / kv.tokens_per_block),
    host_blocks: kv.host_cache_gb === 0 ? 0 : null,
    tokens_per_block: kv.tokens_per_block,
    block_bytes: null,
    source: 'kv_config (GPU pool = gpu_kv_max_tokens / tokens_per_block, at most; host cache size in blocks not reported by the engine)',
  };
}
