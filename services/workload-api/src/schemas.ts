import { z } from 'zod';
import {
  AgentInfo,
  DEFAULT_OUTPUT_TOKENS,
  EngineSpec,
  KvConfig,
  KvOverrides,
  RunId,
  RunStatus,
  ScenarioParams,
  ScenarioWorkload,
  SeedWorkload,
  SystemLabel,
  WorkloadDocument,
  WorkloadParams,
  WorkloadSummary,
} from '@kvbench/common';

/** REST request and response shapes. Message schemas come from @kvbench/common; these wrap them. */

/**
 * The examples Swagger UI shows and "Try it out" sends. EXAMPLE_WORKLOAD is small (3 prompts, 6
 * requests) and deterministic, so its content id is known: the POST /runs example names it, and
 * openapi.test.ts checks that creating the example gives exactly this id.
 */
export const EXAMPLE_WORKLOAD_PARAMS = { contexts: [1024], batches_per_context: 2, batch_sizes: [3], prompt_pool_size: 2, reuse_start_batch: 1, seed: 42 };
export const EXAMPLE_WORKLOAD_ID = 'wl-ad7674fd8a591885';
const EXAMPLE_RUN_ID = 'run-mfz1k2a0-3f9c2b7d1e';
const EXAMPLE_TIME = '2026-12-06T18:00:00.000Z';

/** Workload ids are content hashes; anything else is rejected before touching the store. */
export const WorkloadId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'a workload id (letters, digits, _ . : -)')
  .describe('workload id, as POST /workloads answered it')
  .meta({ examples: [EXAMPLE_WORKLOAD_ID] });

/** A schema's JSON Schema, to document a field that is validated elsewhere. */
function documentedAs(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}

export const CreateWorkloadBody = z
  .object({
    params: WorkloadParams.optional().describe('generate a workload with these parameters (the original generator flags)'),
    scenario: ScenarioParams.optional().describe(
      'generate a scenario of token-id prompts: {"kind": "multiturn", ...} or {"kind": "docqa", ...}, the parameters of `kvbench workload generate --kind`',
    ),
    // Validated by parseWorkload (not here) so that errors name the exact field inside the
    // document; the two accepted formats are still described in the OpenAPI document.
    document: z
      .unknown()
      .meta({
        description:
          'upload a workload: the native document (schema "kvbench.workload"; version 1 batches or version 2 ' +
          'scenario) or the original list of batches (batch_prompts, context_tokens, scheduled_delay_ms), as a list or as {"batches": [...]}',
        anyOf: [documentedAs(WorkloadDocument), documentedAs(ScenarioWorkload), documentedAs(SeedWorkload)],
      })
      .optional(),
  })
  .strict()
  .refine((b) => [b.params, b.scenario, b.document].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of params (generate the original batches), scenario (generate a scenario) or document (upload)',
    path: ['params'],
  })
  .meta({
    id: 'CreateWorkload',
    description: 'exactly one of params, scenario or document',
    examples: [{ params: EXAMPLE_WORKLOAD_PARAMS }],
  });

export const WorkloadIdParams = z.object({ id: WorkloadId });

const EXAMPLE_SUMMARY = { id: EXAMPLE_WORKLOAD_ID, params: { ...EXAMPLE_WORKLOAD_PARAMS, delay_ms: 0 }, prompts: 3, requests: 6, batches: 2, contexts: [1024],
  prompt_lengths: { requests: 6, min: 1024, p50: 1024, p90: 1024, p99: 1024, max: 1024, mean: 1024, buckets: [{ low: 1024, high: 2048, requests: 6 }] },
  bytes: 15941, request_tokens: 6144, prompt_tokens: 3072 };

const boolString = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1');

export const GetWorkloadQuery = z.object({ full: boolString.describe('include the whole native document') }).strict();

export const WorkloadSummaryBody = WorkloadSummary.extend({
  request_tokens: z.number().int().optional().describe('tokens of all requests together, repeats included'),
  prompt_tokens: z.number().int().optional().describe('tokens of the distinct prompts'),
}).meta({ id: 'WorkloadSummary', examples: [EXAMPLE_SUMMARY] });
export type WorkloadSummaryBody = z.infer<typeof WorkloadSummaryBody>;

export const RunRequest = z
  .object({
    workload_id: WorkloadId,
    system_label: SystemLabel,
    model: z.string().min(1).max(512).describe('model name or path the engine serves (the simulator takes any name)'),
    engine: EngineSpec.optional().describe('defaults to the simulator ({"kind":"sim"})'),
    config_module: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('KV offload preset; defaults to config_pcie for system pcie and config_c2c for c2c, required otherwise'),
    overrides: KvOverrides.optional(),
    max_batch_size: z.number().int().positive().default(32).describe('engine maximum batch size, in requests (at most MAX_BATCH_SIZE)'),
    max_seq_len: z.number().int().positive().default(131072).describe('engine maximum sequence length, prompt + output, in tokens (not the generated length)'),
    output_tokens: z.number().int().positive().default(DEFAULT_OUTPUT_TOKENS).describe('tokens generated per request'),
    // The sampling range of the OpenAI completions API that trtllm-serve, vLLM and SGLang serve (0 to 2).
    temperature: z.number().min(0).max(2).default(0).describe('sampling temperature, 0 to 2; 0 is greedy'),
    top_p: z.number().gt(0).max(1).default(1).describe('nucleus sampling probability mass, (0, 1]'),
    notes: z.string().max(10_000).default('').describe('free text kept with the run'),
  })
  .strict()
  .meta({
    id: 'RunRequest',
    examples: [
      {
        workload_id: EXAMPLE_WORKLOAD_ID,
        system_label: 'pcie',
        model: 'meta-llama/Llama-3.1-8B-Instruct',
        engine: { kind: 'sim', options: { time_scale: 0.01 } },
        overrides: { gpu_kv_max_tokens: 49152, host_cache_gb: 16 },
        max_batch_size: 8,
        max_seq_len: 32768,
        output_tokens: 16,
      },
    ],
  });
export type RunRequest = z.output<typeof RunRequest>;

export const RunAccepted = z
  .object({
    run_id: RunId,
    status: z.literal('queued').describe('the run waits on its system\'s queue'),
    status_url: z.string().describe('where its status is (GET)'),
    events_url: z.string().optional().describe("the aggregator's live event stream of the run (SSE), when the aggregator URL is configured"),
    agents_serving: z.number().int().nonnegative().nullable().describe('live host agents of this system label right now; null: presence could not be read'),
    warning: z.string().optional().describe('set when no live agent serves the label: the run waits in its queue'),
  })
  .meta({
    id: 'RunAccepted',
    examples: [{ run_id: EXAMPLE_RUN_ID, status: 'queued', status_url: `/runs/${EXAMPLE_RUN_ID}`, agents_serving: 1 }],
  });
export type RunAccepted = z.infer<typeof RunAccepted>;

export const CancelResult = z
  .object({
    run_id: RunId,
    status: z.enum(['cancelled', 'cancelling']).describe('cancelled: taken off its queue; cancelling: its agent is stopping it'),
    status_url: z.string().describe('where its status is (GET)'),
  })
  .meta({ id: 'CancelResult', examples: [{ run_id: EXAMPLE_RUN_ID, status: 'cancelled', status_url: `/runs/${EXAMPLE_RUN_ID}` }] });

export const AgentBody = AgentInfo.extend({ age_s: z.number().describe('seconds since its last heartbeat') }).meta({ id: 'Agent' });
export const AgentList = z
  .object({ agents: z.array(AgentBody).describe('live agents, any label') })
  .meta({
    id: 'AgentList',
    examples: [
      {
        agents: [
          {
            agent_id: 'pcie-host1-4242',
            system_label: 'pcie',
            hostname: 'host1',
            pid: 4242,
            gpus: { available: false, reason: 'nvidia-smi not found' },
            engines: ['sim'],
            kvbench_version: '0.1.0',
            state: { kind: 'idle' },
            started_at: EXAMPLE_TIME,
            last_seen: EXAMPLE_TIME,
            heartbeat_ms: 5000,
            age_s: 1.2,
          },
        ],
      },
    ],
  });

export const RunIdParams = z.object({ id: RunId });

const EXAMPLE_STATUS = {
  run_id: EXAMPLE_RUN_ID,
  system_label: 'pcie',
  workload_id: EXAMPLE_WORKLOAD_ID,
  status: 'completed',
  attempt: 1,
  expected_samples: 6,
  error: null,
  submitted_at: EXAMPLE_TIME,
  updated_at: EXAMPLE_TIME,
  job_seq: 1,
  cancel_requested_at: null,
};
export const RunStatusBody = RunStatus.meta({ id: 'RunStatus', examples: [EXAMPLE_STATUS] });

export const ListRunsQuery = z
  .object({
    system_label: SystemLabel.optional().describe('only runs of this system label'),
    status: RunStatus.shape.status.optional().describe('only runs in this status'),
    limit: z.coerce.number().int().min(1).max(1000).default(100).describe('at most this many runs (1-1000)'),
  })
  .strict();

export const RunList = z.object({ runs: z.array(RunStatus).describe('newest first') }).meta({ id: 'RunList', examples: [{ runs: [EXAMPLE_STATUS] }] });

export const PresetList = z
  .object({ presets: z.record(z.string(), KvConfig).describe('KV settings by preset name (the config_module values)') })
  .meta({
    id: 'PresetList',
    examples: [
      {
        presets: {
          config_pcie: { gpu_kv_max_tokens: 4096, tokens_per_block: 64, host_cache_gb: 32, enable_reuse: true },
          config_c2c: { gpu_kv_max_tokens: 2048, tokens_per_block: 64, host_cache_gb: 64, enable_reuse: true },
        },
      },
    ],
  });

export const Health = z
  .object({
    status: z.enum(['ok', 'unavailable']).describe('ok: serving; unavailable: the NATS connection is down'),
    nats: z.enum(['connected', 'closed']).describe('state of the NATS connection'),
  })
  .meta({ id: 'Health', examples: [{ status: 'ok', nats: 'connected' }] });
