import { z } from 'zod';
import type { TelemetryOptions } from '@kvbench/telemetry';
import { SystemLabel, envBool, envInt, loadConfig, natsEnvSchema, natsSettingsFrom, type NatsSettings } from '@kvbench/common';
import { AGENT_HEARTBEAT_MS, AGENT_TTL_MS } from '@kvbench/bus';

export const AgentEnv = z.object({
  /** The machine type this agent serves: pcie, c2c, or any label a user defines. */
  SYSTEM_LABEL: SystemLabel,
  ...natsEnvSchema,
  /** Where engine logs and generated YAML files are kept, one folder per run attempt. */
  AGENT_WORK_DIR: z.string().optional().transform((v) => v ?? 'kvbench-agent'),
  ENGINE_STARTUP_TIMEOUT_S: envInt(900, 1),
  REQUEST_TIMEOUT_S: envInt(600, 1),
  /** Path of trtllm-serve when it is not on PATH. */
  TRTLLM_SERVE_BIN: z.string().optional(),
  /** Simulator: modelled seconds last this many real seconds (0.05 = 20x faster). */
  SIM_TIME_SCALE: z.coerce.number().positive().max(100).optional(),
  SIM_PROFILE: z.string().optional(),
  /**
   * Comma-separated engine base URLs this agent attaches to when a job names engine.url; a job
   * naming any other URL fails without a connection (issue 25). Empty: no engine.url at all.
   */
  ENGINE_URLS: z.string().optional(),
  /** Run a short link check (kvbench probe, quick mode) before each run and record it in run_meta. */
  LINK_CHECK: envBool(false),
  /** Link/GPU telemetry over each run (issue 23): on by default; off records source "none". */
  TELEMETRY: envBool(true),
  /** Telemetry sampling period, ms (default 100). */
  TELEMETRY_PERIOD_MS: envInt(100, 10),
  /** A DCGM exporter the operator runs (e.g. http://127.0.0.1:9400/metrics): tried first. */
  DCGM_EXPORTER_URL: z.url().optional(),
  /** python3 with nvidia-ml-py for the NVML sidecar. */
  TELEMETRY_PYTHON: z.string().optional(),
  /**
   * Where the GPUs' PCI config spaces are read (their Max_Payload_Size, which frames the PCIe
   * counters' bytes). Past its first 64 bytes a config space is root's to read: the systemd unit
   * copies them here before the agent starts (deploy/systemd/kvbench-host-agent@.service).
   */
  PCI_DEVICES_DIR: z.string().optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).optional().transform((v) => v ?? 'info'),
  /**
   * Milliseconds between presence heartbeats. Readers count an agent gone after three missed beats
   * (at least 5 s), and the workload-api then puts its running run back to queued (agent_lost);
   * at most half the bucket's TTL, so a live agent's entry never expires between beats.
   */
  AGENT_HEARTBEAT_MS: envInt(AGENT_HEARTBEAT_MS, 100, AGENT_TTL_MS / 2),
});
export type AgentEnv = z.output<typeof AgentEnv>;

export interface AgentConfig {
  systemLabel: string;
  nats: NatsSettings;
  workDir: string;
  engineStartupTimeoutMs: number;
  requestTimeoutMs: number;
  trtllmServeBin?: string | undefined;
  simTimeScale?: number | undefined;
  simProfile?: string | undefined;
  /** Engine base URLs a job may name (ENGINE_URLS). */
  engineUrls: string[];
  linkCheck: boolean;
  /** Telemetry sampling (issue 23); absent: on, 100 ms, no DCGM exporter. */
  telemetry?: TelemetryOptions | undefined;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Presence heartbeat period (AGENT_HEARTBEAT_MS); absent: AGENT_HEARTBEAT_MS of @kvbench/bus. */
  heartbeatMs?: number | undefined;
}

export function agentConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const e = loadConfig(AgentEnv, env);
  return {
    systemLabel: e.SYSTEM_LABEL,
    nats: natsSettingsFrom(e),
    workDir: e.AGENT_WORK_DIR,
    engineStartupTimeoutMs: e.ENGINE_STARTUP_TIMEOUT_S * 1000,
    requestTimeoutMs: e.REQUEST_TIMEOUT_S * 1000,
    trtllmServeBin: e.TRTLLM_SERVE_BIN,
    simTimeScale: e.SIM_TIME_SCALE,
    simProfile: e.SIM_PROFILE,
    engineUrls: (e.ENGINE_URLS ?? '').split(',').map((u) => u.trim()).filter(Boolean),
    linkCheck: e.LINK_CHECK,
    telemetry: {
      enabled: e.TELEMETRY,
      periodMs: e.TELEMETRY_PERIOD_MS,
      dcgmUrl: e.DCGM_EXPORTER_URL ?? null,
      ...(e.TELEMETRY_PYTHON ? { python: e.TELEMETRY_PYTHON } : {}),
      ...(e.PCI_DEVICES_DIR ? { pciDevicesDir: e.PCI_DEVICES_DIR } : {}),
    },
    logLevel: e.LOG_LEVEL,
    heartbeatMs: e.AGENT_HEARTBEAT_MS,
  };
}
