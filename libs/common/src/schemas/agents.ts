import { z } from 'zod';
import { EngineKind, RunId, SystemLabel } from './job.js';

/** What an agent is doing right now. */
export const AgentState = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('idle') }),
  z.object({ kind: z.literal('running'), run_id: RunId, attempt: z.number().int().positive() }),
]);
export type AgentState = z.infer<typeof AgentState>;

/**
 * A host agent's presence entry in the AGENTS_BUCKET key-value bucket (key = agent id). The agent
 * writes it at start and on every heartbeat; the bucket's TTL removes it when the heartbeats stop
 * (an agent killed without a chance to say goodbye), a clean stop deletes it.
 */
export const AgentInfo = z.object({
  agent_id: z.string().regex(/^[A-Za-z0-9_=.-]{1,200}$/),
  system_label: SystemLabel,
  hostname: z.string(),
  pid: z.number().int().positive(),
  /** GPUs from nvidia-smi, or the reason there are none to list. */
  gpus: z.union([z.array(z.record(z.string(), z.unknown())), z.object({ available: z.literal(false), reason: z.string() })]),
  /** Engine kinds this agent can run (launch or attach) with what is installed on its host. */
  engines: z.array(EngineKind),
  kvbench_version: z.string(),
  state: AgentState,
  started_at: z.string(),
  last_seen: z.string(),
  heartbeat_ms: z.number().int().positive(),
});
export type AgentInfo = z.infer<typeof AgentInfo>;
