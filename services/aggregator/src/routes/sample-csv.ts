import type { Sample } from '@kvbench/common';

/** Columns of samples.csv: the sample's scalar fields, inter-token gaps as a JSON list, the engine's own timings flattened. */
export const SAMPLE_CSV_COLUMNS = [
  'request_id',
  'batch_index',
  'index_in_batch',
  'prompt_id',
  'context_tokens',
  'phase',
  'scheduled_at_s',
  'ttft_s',
  'latency_s',
  'ok',
  'error',
  'prompt_tokens_client',
  'prompt_tokens_server',
  'completion_tokens_client',
  'completion_tokens_server',
  'cached_tokens',
  'itl_s',
  'server_queue_s',
  'server_ttft_s',
  'server_latency_s',
  'server_reused_blocks',
  'server_missed_blocks',
  // The TTFT breakdown and the prompt's tokens by tier (empty where the engine could not tell).
  'client_wait_s',
  'to_engine_s',
  'engine_queue_s',
  'first_token_s',
  'onboard_s',
  'prefill_s',
  'to_client_s',
  'tokens_gpu_hit',
  'tokens_host_onboarded',
  'tokens_recomputed',
] as const;

/**
 * RFC 4180 quoting. Text that a spreadsheet would run as a formula (= + - @ at
 * the start) gets a leading apostrophe: an exported error message must never execute.
 */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function sampleCsvRow(s: Sample): string {
  const server = (s.server ?? {}) as Record<string, unknown>;
  const b = s.breakdown ?? null;
  const tk = s.tokens ?? null;
  const values: Record<(typeof SAMPLE_CSV_COLUMNS)[number], unknown> = {
    request_id: s.request_id,
    batch_index: s.batch_index,
    index_in_batch: s.index_in_batch,
    prompt_id: s.prompt_id,
    context_tokens: s.context_tokens,
    phase: s.phase,
    scheduled_at_s: s.scheduled_at_s,
    ttft_s: s.ttft_s,
    latency_s: s.latency_s,
    ok: s.ok,
    error: s.error,
    prompt_tokens_client: s.prompt_tokens_client,
    prompt_tokens_server: s.prompt_tokens_server,
    completion_tokens_client: s.completion_tokens_client,
    completion_tokens_server: s.completion_tokens_server,
    cached_tokens: s.cached_tokens,
    itl_s: s.itl_s && s.itl_s.length ? JSON.stringify(s.itl_s) : '',
    server_queue_s: server.queue_s,
    server_ttft_s: server.server_ttft_s,
    server_latency_s: server.server_latency_s,
    server_reused_blocks: server.reused_blocks,
    server_missed_blocks: server.missed_blocks,
    client_wait_s: b?.client_wait_s,
    to_engine_s: b?.to_engine_s,
    engine_queue_s: b?.engine_queue_s,
    first_token_s: b?.first_token_s,
    onboard_s: b?.onboard_s,
    prefill_s: b?.prefill_s,
    to_client_s: b?.to_client_s,
    tokens_gpu_hit: tk?.gpu_hit,
    tokens_host_onboarded: tk?.host_onboarded,
    tokens_recomputed: tk?.recomputed,
  };
  return SAMPLE_CSV_COLUMNS.map((c) => csvField(values[c])).join(',');
}
