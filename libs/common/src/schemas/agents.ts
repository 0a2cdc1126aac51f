import { z } from 'zod';
import { EngineKind, RunId, SystemLabel } from './job.js';

/** What an agent is doing right now. */
export const AgentState = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('idle').describe('waiting for a job') }),
  z.object({
    kind: z.literal('running').describe('running a job'),
    run_id: RunId,
    attempt: z.number().int().positive().describe('attempt number of that run'),
  }),
]).describe('what the agent is doing right now');
export type AgentState = z.infer<typeof AgentState>;

/**
 * A host agent's presence entry in the AGENTS_BUCKET key-value bucket (key = agent id). The agent
 * writes it at start and on every heartbeat; the bucket's TTL removes it when the heartbeats stop
 * (an agent killed without a chance to say goodbye), a clean stop deletes it.
 */
export const AgentInfo = z.object({
  agent_id: z.string().regex(/^[A-Za-z0-9_=.-]{1,200}$/).describe('unique id of the agent process'),
  system_label: SystemLabel,
  hostname: z.string().describe('host the agent runs on'),
  pid: z.number().int().positive().describe('process id on that host'),
  gpus: z
    .union([
      z.array(z.record(z.string(), z.unknown())),
      z.object({ available: z.literal(false).describe('no GPU could be listed'), reason: z.string().describe('why not') }),
    ])
    .describe('GPUs from nvidia-smi, or the reason there are none to list'),
  engines: z.array(EngineKind).describe('engine kinds this agent can run (launch or attach) with what is installed on its host'),
  kvbench_version: z.string().describe('kvbench version of the agent'),
  state: AgentState,
  started_at: z.string().describe('when the agent started (ISO 8601)'),
  last_seen: z.string().describe('its latest heartbeat (ISO 8601)'),
  heartbeat_ms: z.number().int().positive().describe('heartbeat interval, in milliseconds'),
});
export type AgentInfo = z.infer<typeof AgentInfo>;
