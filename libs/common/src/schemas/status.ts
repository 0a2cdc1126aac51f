import { z } from 'zod';
import { RunId, SystemLabel } from './job.js';

/**
 * A run's lifecycle status, kept in the RUNS_BUCKET key-value bucket (key = run id).
 * workload-api writes `queued`; the host agent writes the rest.
 */
export const RunStatus = z.object({
  run_id: RunId,
  system_label: SystemLabel,
  workload_id: z.string(),
  status: z.enum(['queued', 'running', 'completed', 'failed']),
  attempt: z.number().int().nonnegative(),
  expected_samples: z.number().int().nonnegative().nullable().default(null),
  error: z.string().nullable().default(null),
  submitted_at: z.string(),
  updated_at: z.string(),
});
export type RunStatus = z.infer<typeof RunStatus>;
