import { randomBytes } from 'node:crypto';
import { Job, LimitError, NotFoundError, ValidationError, parseOrThrow, resolveKvConfig } from '@kvbench/common';
import type { RunRequest } from '../schemas.js';
import { workloadExists } from '../workloads.js';
import type { RunsContext } from './context.js';

/** Presets named by the original's system labels; any other label must name its preset. */
const DEFAULT_PRESET: Readonly<Record<string, string>> = { pcie: 'config_pcie', c2c: 'config_c2c' };

/** Sortable by creation time, unique without coordination, and subject-safe (RunId). */
export function newRunId(now: Date): string {
  return `run-${now.getTime().toString(36)}-${randomBytes(5).toString('hex')}`;
}

export function configModuleFor(req: Pick<RunRequest, 'config_module' | 'system_label'>): string {
  const module = req.config_module ?? DEFAULT_PRESET[req.system_label];
  if (!module) {
    throw new ValidationError(
      `config_module is required for system '${req.system_label}' (defaults exist only for pcie and c2c)`,
      'config_module',
    );
  }
  return module;
}

/** Validate a run request against policy and the stores, and build its Job. */
export async function buildJob(ctx: RunsContext, req: RunRequest, runId: string): Promise<Job> {
  if (req.max_batch_size > ctx.limits.maxBatchSize) {
    throw new LimitError(
      `max_batch_size is ${req.max_batch_size}, more than MAX_BATCH_SIZE (${ctx.limits.maxBatchSize})`,
      'max_batch_size',
      ctx.limits.maxBatchSize,
    );
  }
  if (req.engine?.launch_command && !ctx.allowEngineLaunchCommand) {
    throw new ValidationError(
      'engine.launch_command is disabled on this server (ALLOW_ENGINE_LAUNCH_COMMAND); agents launch their configured engine',
      'engine.launch_command',
    );
  }
  const config_module = configModuleFor(req);
  // Throws a ValidationError on config_module listing the valid presets, or on a bad override.
  resolveKvConfig(config_module, req.overrides ?? {});
  if (!(await workloadExists(ctx.workloads, req.workload_id))) throw new NotFoundError('workload', req.workload_id);
  return parseOrThrow(
    Job,
    {
      schema: 'kvbench.job',
      version: 1,
      run_id: runId,
      workload_id: req.workload_id,
      system_label: req.system_label,
      model: req.model,
      engine: req.engine ?? { kind: 'sim', options: {} },
      config_module,
      overrides: req.overrides ?? {},
      max_batch_size: req.max_batch_size,
      max_seq_len: req.max_seq_len,
      output_tokens: req.output_tokens,
      temperature: req.temperature,
      top_p: req.top_p,
      notes: req.notes,
      submitted_at: ctx.now().toISOString(),
    },
    'job',
  );
}
