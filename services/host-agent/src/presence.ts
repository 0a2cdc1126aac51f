import { hostname } from 'node:os';
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { KV } from '@nats-io/kv';
import { AgentInfo, type AgentState, type EngineKind, type Logger } from '@kvbench/common';
import { AGENT_HEARTBEAT_MS } from '@kvbench/bus';
import { collectEnvironment, kvbenchVersion } from '@kvbench/runner';

/** Subject-safe id, unique per process: label, host and pid. */
export function agentIdFor(systemLabel: string, host: string, pid: number): string {
  return `${systemLabel}.${host.replace(/[^A-Za-z0-9_-]/g, '-')}.${pid}`;
}

/**
 * This agent's entry in the agents bucket: written at start and every heartbeat, with its
 * state (idle or the run in hand) rewritten at once when it changes. A missed heartbeat is
 * logged, never fatal: presence is a view, the job consumer is what does the work.
 */
export class AgentPresence {
  private timer: NodeJS.Timeout | undefined;
  private state: AgentState = { kind: 'idle' };
  private info: Omit<AgentInfo, 'state' | 'last_seen'> | undefined;

  constructor(
    private readonly kv: KV,
    private readonly systemLabel: string,
    private readonly opts: { trtllmServeBin?: string | undefined; heartbeatMs?: number; log: Logger },
  ) {}

  get agentId(): string {
    return agentIdFor(this.systemLabel, hostname(), process.pid);
  }

  async start(): Promise<void> {
    const env = await collectEnvironment();
    const heartbeatMs = this.opts.heartbeatMs ?? AGENT_HEARTBEAT_MS;
    this.info = {
      agent_id: this.agentId,
      system_label: this.systemLabel,
      hostname: env.hostname,
      pid: process.pid,
      gpus: Array.isArray(env.gpus) ? (env.gpus as unknown as Record<string, unknown>[]) : { available: false, reason: env.gpus.reason },
      engines: await engineKinds(this.opts.trtllmServeBin),
      kvbench_version: (await kvbenchVersion()) ?? 'unknown',
      started_at: new Date().toISOString(),
      heartbeat_ms: heartbeatMs,
    };
    await this.beat();
    this.timer = setInterval(() => void this.beat(), heartbeatMs);
  }

  setState(state: AgentState): void {
    this.state = state;
    void this.beat();
  }

  /** A clean stop says goodbye at once instead of waiting out the TTL. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.kv.delete(this.agentId).catch(() => {});
  }

  private async beat(): Promise<void> {
    if (!this.info) return;
    try {
      const entry = AgentInfo.parse({ ...this.info, state: this.state, last_seen: new Date().toISOString() });
      await this.kv.put(this.agentId, JSON.stringify(entry));
    } catch (err) {
      this.opts.log.warn({ err: String(err) }, 'agent heartbeat failed');
    }
  }
}

/** The simulator and attaching to an OpenAI-compatible server always work; trtllm needs trtllm-serve. */
async function engineKinds(trtllmServeBin?: string): Promise<EngineKind[]> {
  const kinds: EngineKind[] = ['sim', 'openai'];
  if (await executableOnPath(trtllmServeBin ?? 'trtllm-serve')) kinds.push('trtllm');
  return kinds;
}

async function executableOnPath(bin: string): Promise<boolean> {
  const candidates = bin.includes('/') ? [bin] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, bin));
  for (const c of candidates) {
    if (await access(c, fsConstants.X_OK).then(() => true, () => false)) return true;
  }
  return false;
}
