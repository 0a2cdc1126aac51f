/**
 * Telemetry around one run, without touching the runner: wraps the run's `emit` and follows its
 * events. On `started` it opens a source (t = 0 is then, the origin of samples' scheduled_at_s
 * within the publish latency); while the run goes it publishes `telemetry` events with chunks of
 * the series; before `completed` (or `failed`/`cancelled`) goes out it takes a last reading and
 * publishes the final `telemetry` event with the summary, so the run's results have it.
 */
import type { LogMetrics, Logger, RunEvent, RunEventOf, TelemetryPoint, TelemetrySummary } from '@kvbench/common';
import { openTelemetry, PointBuffer, type TelemetryOptions } from './sampler.js';
import type { TelemetrySource } from './source.js';
import { summarize } from './summary.js';

/** Points per telemetry event (well under JetStream's 1 MB message limit). */
export const CHUNK_POINTS = 500;
const CHUNK_INTERVAL_MS = 2_000;

export interface RunTelemetry {
  /** Pass this to runBenchmark as `emit`. */
  emit(event: RunEvent): Promise<void>;
  /** The summary once the run ended (null before, or when the run never started). */
  summary(): TelemetrySummary | null;
  points(): readonly TelemetryPoint[];
  /** Stop sampling if the run ended without a final event (an exception around the runner). */
  close(): Promise<void>;
}

export function runTelemetry(downstream: (e: RunEvent) => Promise<void>, options: TelemetryOptions, log?: Logger): RunTelemetry {
  let opening: Promise<{ source: TelemetrySource | null; tried: { source: import('@kvbench/common').TelemetrySourceKind; reason: string }[]; periodMs: number }> | null = null;
  let started: RunEventOf<'started'> | null = null;
  const buffer = new PointBuffer();
  let chunk = 0;
  let requests = 0;
  let outputTokens = 0;
  let timer: NodeJS.Timeout | null = null;
  let publishing: Promise<void> = Promise.resolve();
  let result: TelemetrySummary | null = null;
  let finished = false;

  const envelope = (e: RunEvent) => ({ schema: 'kvbench.event' as const, version: 1 as const, run_id: e.run_id, attempt: e.attempt, system_label: e.system_label });
  const publishChunks = (final: boolean) => {
    const s = started!;
    publishing = publishing.then(async () => {
      while (buffer.pending > 0) {
        const points = buffer.takeUnsent(CHUNK_POINTS);
        await downstream({ ...envelope(s), at: new Date().toISOString(), type: 'telemetry', chunk: chunk++, final: false, points, summary: null });
      }
      void final;
    });
    return publishing;
  };

  async function finish(end: RunEvent, logMetrics: LogMetrics | null): Promise<void> {
    if (finished || !started || !opening) return;
    finished = true;
    if (timer) clearInterval(timer);
    const opened = await opening;
    if (opened.source) await opened.source.stop().catch((err) => log?.warn({ err: String(err) }, 'stopping the telemetry source failed'));
    await publishChunks(false).catch((err) => log?.warn({ err: String(err) }, 'publishing telemetry failed'));
    const src = opened.source;
    result = summarize({
      source: src?.kind ?? 'none',
      detail: src?.detail ?? 'no telemetry source',
      tried: opened.tried,
      simulated: src?.simulated ?? started.run_meta.simulated,
      gpus: src?.gpus ?? [],
      periodMs: opened.periodMs,
      points: buffer.all,
      nullReasons: src ? src.nullReasons : Object.fromEntries(['pcie_tx_bytes', 'pcie_rx_bytes', 'c2c_tx_bytes', 'c2c_rx_bytes', 'util_pct', 'sm_clock_mhz', 'power_w', 'energy_j', 'mem_used_bytes'].map((k) => [k, `no telemetry source: ${opened.tried.map((t) => `${t.source}: ${t.reason}`).join('; ')}`])),
      requests,
      outputTokens,
      logMetrics,
    });
    await downstream({ ...envelope(end), at: new Date().toISOString(), type: 'telemetry', chunk: chunk++, final: true, points: [], summary: result });
  }

  return {
    async emit(e) {
      if (e.type === 'started' && !started) {
        started = e;
        const originNs = process.hrtime.bigint();
        const meta = e.run_meta as Record<string, unknown> & { engine?: { url?: string }; time_scale?: number };
        const timeScale = typeof meta.time_scale === 'number' && meta.time_scale > 0 ? meta.time_scale : 1;
        opening = openTelemetry({ simulated: e.run_meta.simulated, engineUrl: meta.engine?.url ?? null, timeScale }, options, log).then((o) => {
          o.source?.start((pts) => buffer.push(pts), originNs);
          return o;
        });
        await downstream(e);
        await opening;
        timer = setInterval(() => void publishChunks(false).catch((err) => log?.warn({ err: String(err) }, 'publishing telemetry failed')), CHUNK_INTERVAL_MS);
        return;
      }
      if (e.type === 'sample' && e.sample.ok) {
        requests++;
        outputTokens += e.sample.completion_tokens_server ?? e.sample.completion_tokens_client;
      }
      if (e.type === 'completed') await finish(e, e.log_metrics);
      else if (e.type === 'failed' || e.type === 'cancelled') await finish(e, null);
      await downstream(e);
    },
    summary: () => result,
    points: () => buffer.all,
    async close() {
      if (finished) return;
      finished = true;
      if (timer) clearInterval(timer);
      const o = await opening;
      await o?.source?.stop().catch(() => {});
    },
  };
}
