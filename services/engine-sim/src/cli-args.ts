/**
 * trtllm-serve's command line as the simulator accepts it:
 *   <model> --config file.yaml --max_batch_size N --max_seq_len N --max_num_tokens N --host H --port P
 * (--extra_llm_api_options is the older name of --config; --tp_size the trtllm-serve name of --tp),
 * plus the simulator's own: --profile NAME|PATH --system LABEL --seed N --time_scale S
 * --legacy_metrics --model_shape layers:kvheads:headdim:dtype --tp N.
 * KVBENCH_SIM_TIME_SCALE sets the time scale when --time_scale is absent.
 */
import { z } from 'zod';
import { ConfigError, loadConfig } from '@kvbench/common';
import type { SimOptions } from './config.js';

/** The simulator's environment, read once at start (main.ts). */
export const SimEnv = z.object({
  KVBENCH_SIM_TIME_SCALE: z.coerce.number().positive().optional(),
});
export type SimEnv = z.infer<typeof SimEnv>;

export function loadSimEnv(env: NodeJS.ProcessEnv = process.env): SimEnv {
  return loadConfig(SimEnv, env);
}

const VALUE_FLAGS: Record<string, keyof SimOptions | 'ignore'> = {
  config: 'config',
  extra_llm_api_options: 'config',
  max_batch_size: 'maxBatchSize',
  max_seq_len: 'maxSeqLen',
  max_num_tokens: 'maxNumTokens',
  host: 'host',
  port: 'port',
  profile: 'profile',
  system: 'system',
  seed: 'seed',
  time_scale: 'timeScale',
  clock: 'clock',
  model_shape: 'modelShape',
  tp: 'tp',
  tp_size: 'tp',
  // trtllm-serve flags accepted for compatibility; the simulator has nothing to do with them.
  backend: 'ignore',
  log_level: 'ignore',
  kv_cache_free_gpu_memory_fraction: 'ignore',
  tokenizer: 'ignore',
  pp_size: 'ignore',
  ep_size: 'ignore',
  gpus_per_node: 'ignore',
  num_postprocess_workers: 'ignore',
};
const NUMERIC = new Set<keyof SimOptions>(['maxBatchSize', 'maxSeqLen', 'maxNumTokens', 'port', 'seed', 'timeScale', 'tp']);
const INTEGER = new Set<keyof SimOptions>(['maxBatchSize', 'maxSeqLen', 'maxNumTokens', 'port', 'seed', 'tp']);
const BOOL_FLAGS: Record<string, keyof SimOptions | 'ignore'> = { legacy_metrics: 'legacyMetrics', trust_remote_code: 'ignore' };

export const USAGE = `usage: main.js <model> [--config FILE.yaml] [--max_batch_size N] [--max_seq_len N]
       [--max_num_tokens N] [--host HOST] [--port PORT (0: any free port)]
       [--profile NAME|PATH] [--system LABEL] [--model_shape LAYERS:KVHEADS:HEADDIM:DTYPE[:QHEADS]]
       [--tp N] [--seed N] [--time_scale S] [--clock real|virtual] [--legacy_metrics]
The kvbench engine simulator: answers like trtllm-serve; every answer is labelled simulated.
KVBENCH_SIM_TIME_SCALE sets the time scale when --time_scale is absent.`;

/** True when the arguments ask for the usage text. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

export function parseSimArgs(argv: readonly string[], env: SimEnv = {}): SimOptions {
  const out: Record<string, unknown> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = (eq > 0 ? a.slice(2, eq) : a.slice(2)).replace(/-/g, '_');
    if (name in BOOL_FLAGS) {
      const key = BOOL_FLAGS[name]!;
      if (key !== 'ignore') out[key] = true;
      continue;
    }
    const key = VALUE_FLAGS[name];
    if (!key) throw new ConfigError(`no such option: --${name}`, name);
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`option --${name} requires a value`, name);
    if (key === 'ignore') continue;
    if (NUMERIC.has(key)) {
      const n = Number(value);
      if (!Number.isFinite(n) || (INTEGER.has(key) && !Number.isInteger(n))) throw new ConfigError(`--${name}: '${value}' is not a valid ${INTEGER.has(key) ? 'integer' : 'number'}`, name);
      out[key] = n;
    } else if (key === 'clock') {
      if (value !== 'real' && value !== 'virtual') throw new ConfigError(`--clock: '${value}' is not real or virtual`, name);
      out[key] = value;
    } else out[key] = value;
  }
  if (positional.length !== 1) throw new ConfigError(`expected exactly one model argument, got ${positional.length}: ${positional.join(' ')}`, 'model');
  out.model = positional[0];
  if (out.timeScale === undefined && env.KVBENCH_SIM_TIME_SCALE !== undefined) out.timeScale = env.KVBENCH_SIM_TIME_SCALE;
  return out as unknown as SimOptions;
}
