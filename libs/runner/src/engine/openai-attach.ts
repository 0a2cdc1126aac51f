/**
 * What an attached OpenAI-compatible engine is, checked before a run so that a
 * mistake gives one clear message instead of a run of failed samples
 * (ENGINES.md): vLLM refuses requests whose `model` differs from its served model
 * name (GET /v1/models lists it); SGLang serves /metrics only with --enable-metrics.
 */
import { ValidationError } from '@kvbench/common';
import { httpJson, httpRequest } from '../http.js';

export interface OpenaiEngineFacts {
  flavor: 'vllm' | 'sglang' | 'unknown';
  /** How the flavour was told. */
  flavor_from: string;
  served_models: string[];
  metrics_status: number | null;
}

interface ModelList {
  data?: { id?: unknown; owned_by?: unknown }[];
}

export async function checkOpenaiEngine(base: URL, model: string): Promise<OpenaiEngineFacts> {
  const models = await httpJson<ModelList>(new URL('/v1/models', base), { timeoutMs: 10_000 }).catch(() => null);
  const entries = Array.isArray(models?.data) ? models!.data : [];
  const served = entries.map((e) => (typeof e.id === 'string' ? e.id : null)).filter((id): id is string => id !== null);
  const owners = new Set(entries.map((e) => (typeof e.owned_by === 'string' ? e.owned_by.toLowerCase() : '')));
  const metrics = await httpRequest(new URL('/metrics', base), { timeoutMs: 15_000 }).catch(() => null);
  const metricsStatus = metrics?.status ?? null;
  const metricsBody = metrics?.status === 200 ? metrics.body : '';

  let flavor: OpenaiEngineFacts['flavor'] = 'unknown';
  let from = 'neither /v1/models owned_by nor /metrics names the engine';
  if (owners.has('vllm')) [flavor, from] = ['vllm', '/v1/models owned_by "vllm"'];
  else if (owners.has('sglang')) [flavor, from] = ['sglang', '/v1/models owned_by "sglang"'];
  else if (/^vllm:/m.test(metricsBody)) [flavor, from] = ['vllm', '/metrics series vllm:*'];
  else if (/^sglang:/m.test(metricsBody)) [flavor, from] = ['sglang', '/metrics series sglang:*'];
  else if ((await httpRequest(new URL('/get_server_info', base), { timeoutMs: 5_000 }).catch(() => null))?.status === 200) {
    [flavor, from] = ['sglang', 'GET /get_server_info answered 200 (an SGLang endpoint)'];
  }

  if (flavor === 'vllm' && served.length > 0 && !served.includes(model)) {
    throw new ValidationError(
      `the vLLM server at ${base.href} serves ${served.map((s) => `"${s}"`).join(', ')} (GET /v1/models) and refuses requests for any other model name; ` +
        `this job asks for "${model}". Run with --model ${served[0]} (or start vLLM with --served-model-name ${model}).`,
      'model',
    );
  }
  if (flavor === 'sglang' && metricsStatus !== 200) {
    throw new ValidationError(
      `the SGLang server at ${base.href} serves no Prometheus /metrics (${metricsStatus === null ? 'no answer' : `HTTP ${metricsStatus}`}): ` +
        'kvbench reads its cache figures there. Restart SGLang with --enable-metrics.',
      'engine.url',
    );
  }
  return { flavor, flavor_from: from, served_models: served, metrics_status: metricsStatus };
}
