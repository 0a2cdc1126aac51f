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

/** Workload ids are content hashes; anything else is rejected before touching the store. */
export const WorkloadId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'a workload id (letters, digits, _ . : -)');

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
  .meta({ id: 'CreateWorkload' });

export const WorkloadIdParams = z.object({ id: WorkloadId });

const boolString = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1');

export const GetWorkloadQuery = z.object({ full: boolString.describe('include the whole native document') }).strict();

export const WorkloadSummaryBody = WorkloadSummary.extend({
  request_tokens: z.number().int().optional().describe('tokens of all requests together, repeats included'),
  prompt_tokens: z.number().int().optional().describe('tokens of the distinct prompts'),
}).meta({ id: 'WorkloadSummary' });
export type WorkloadSummaryBody = z.infer<typeof WorkloadSummaryBody>;

export const RunRequest = z
  .object({
    workload_id: WorkloadId,
    system_label: SystemLabel,
    model: z.string().min(1).max(512),
    engine: EngineSpec.optional().describe('defaults to the simulator ({"kind":"sim"})'),
    config_module: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('KV offload preset; defaults to config_pcie for system pcie and config_c2c for c2c, required otherwise'),
    overrides: KvOverrides.optional(),
    max_batch_size: z.number().int().positive().default(32),
    max_seq_len: z.number().int().positive().default(131072).describe('engine maximum sequence length (not the generated length)'),
    output_tokens: z.number().int().positive().default(DEFAULT_OUTPUT_TOKENS).describe('tokens generated per request'),
    // The sampling range of the OpenAI completions API that trtllm-serve, vLLM and SGLang serve (0 to 2).
    temperature: z.number().min(0).max(2).default(0),
    top_p: z.number().gt(0).max(1).default(1),
    notes: z.string().max(10_000).default(''),
  })
  .strict()
  .meta({ id: 'RunRequest' });
export type RunRequest = z.output<typeof RunRequest>;

export const RunAccepted = z
  .object({
    run_id: RunId,
    status: z.literal('queued'),
    status_url: z.string(),
    events_url: z.string().optional(),
    agents_serving: z.number().int().nonnegative().nullable().describe('live host agents of this system label right now; null: presence could not be read'),
    warning: z.string().optional().describe('set when no live agent serves the label: the run waits in its queue'),
  })
  .meta({ id: 'RunAccepted' });
export type RunAccepted = z.infer<typeof RunAccepted>;

export const CancelResult = z
  .object({
    run_id: RunId,
    status: z.enum(['cancelled', 'cancelling']).describe('cancelled: taken off its queue; cancelling: its agent is stopping it'),
    status_url: z.string(),
  })
  .meta({ id: 'CancelResult' });

export const AgentBody = AgentInfo.extend({ age_s: z.number().describe('seconds since its last heartbeat') }).meta({ id: 'Agent' });
export const AgentList = z.object({ agents: z.array(AgentBody) }).meta({ id: 'AgentList' });

export const RunIdParams = z.object({ id: RunId });

export const RunStatusBody = RunStatus.meta({ id: 'RunStatus' });

export const ListRunsQuery = z
  .object({
    system_label: SystemLabel.optional(),
    status: RunStatus.shape.status.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const RunList = z.object({ runs: z.array(RunStatus) });

export const PresetList = z.object({ presets: z.record(z.string(), KvConfig) });

export const Health = z.object({ status: z.enum(['ok', 'unavailable']), nats: z.enum(['connected', 'closed']) });
