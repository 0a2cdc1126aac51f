/**
 * The device capture (capture/h2d_d2h_capture.py): host↔device copies of known byte counts while
 * the NVML sidecar ran. This replays the recorded sidecar output through the same converter the
 * sampler uses and sets the link bytes it counted against the bytes copied, phase by phase.
 */
import type { TelemetryPoint } from '@kvbench/common';
import { z } from 'zod';
import { convertNvmlLines, type PcieMethod } from './nvml.js';
import { payloadFromCounted, type FramingReading, type PcieFraming } from './pcie-framing.js';

const Phase = z.object({
  direction: z.enum(['h2d', 'd2h']),
  copies: z.number().int().positive(),
  copy_bytes: z.number().int().positive(),
  bytes: z.number().int().positive(),
  t_start_ns: z.number(),
  t_end_ns: z.number(),
  event_s: z.number().positive(),
  gbps: z.number().positive(),
});
export const CapturePhases = z
  .object({
    schema: z.literal('kvbench.telemetry-capture'),
    version: z.literal(1),
    device: z.string(),
    period_ms: z.number().positive(),
    baseline: z.array(Phase),
    with_sampler: z.array(Phase),
  })
  .loose();
export type CapturePhases = z.infer<typeof CapturePhases>;

export interface CapturePhaseResult {
  direction: 'h2d' | 'd2h';
  copied_bytes: number;
  /** What the link counted in the copy's direction (rx for h2d, tx for d2h) over the periods the phase touched. */
  counted_bytes: number;
  ratio: number;
  /** The other direction over the same periods (read requests, write acknowledgements…). */
  other_direction_bytes: number;
  copy_gbps: number;
  /**
   * The payload estimate in the copy's direction / copied: the counted bytes of both directions
   * through payloadFromCounted with the Max_Payload_Size read from the capture machine's config
   * space (pcie-framing.ts). 1.0 means the TLP model accounts for every counted byte. Null when the
   * capture has no config dump (payload_null_reason).
   */
  payload_ratio: number | null;
  /** The estimate's payload in the other direction (no data moved that way: ≈ 0 when the model holds). */
  other_direction_payload_bytes: number | null;
  payload_null_reason?: string;
}

export interface CaptureAnalysis {
  device: string;
  method: PcieMethod | null;
  period_ms_requested: number;
  period_ms_achieved: { median: number; p99: number; max: number };
  points: number;
  /** The capture machine's PCIe framing (from its config-space dump), or null with the reason. */
  framing: PcieFraming | null;
  framing_null_reason?: string;
  phases: CapturePhaseResult[];
  /** Copy bandwidth without the sampler over with it, per phase pair: > 0 means the sampler slowed the copies. */
  overhead: { direction: 'h2d' | 'd2h'; baseline_gbps: number; with_sampler_gbps: number; slowdown_pct: number }[];
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

export function analyzeCapture(phasesJson: unknown, sidecarLines: readonly string[], prefer?: readonly PcieMethod[], framing?: FramingReading): CaptureAnalysis {
  const noFraming = framing === undefined ? 'the capture has no config-space dump (pcie-config.bin): Max_Payload_Size unknown' : framing.ok ? undefined : framing.reason;
  const mps = framing?.ok ? framing.framing.max_payload_bytes : null;
  const cap = CapturePhases.parse(phasesJson);
  const hello = JSON.parse(sidecarLines.find((l) => l.includes('"hello"'))!) as { t_ns: number };
  const origin = hello.t_ns;
  const { plan, points } = convertNvmlLines(sidecarLines, origin, prefer);
  const gaps = points.slice(1).map((p, i) => (p.t_s - points[i]!.t_s) * 1000);
  const touching = (start: number, end: number) => points.filter((p: TelemetryPoint) => p.t_s > start && p.t_s - p.dt_s < end);
  const phases = cap.with_sampler.map((ph): CapturePhaseResult => {
    const start = (ph.t_start_ns - origin) / 1e9;
    const end = (ph.t_end_ns - origin) / 1e9;
    const pts = touching(start, end);
    const main = ph.direction === 'h2d' ? 'pcie_rx_bytes' : 'pcie_tx_bytes';
    const other = ph.direction === 'h2d' ? 'pcie_tx_bytes' : 'pcie_rx_bytes';
    const counted = pts.reduce((a, p) => a + (p[main] ?? 0), 0);
    const otherCounted = pts.reduce((a, p) => a + (p[other] ?? 0), 0);
    const est = mps === null ? null : ph.direction === 'h2d' ? payloadFromCounted(otherCounted, counted, mps) : payloadFromCounted(counted, otherCounted, mps);
    const [mine, theirs] = est === null ? [null, null] : ph.direction === 'h2d' ? [est.onboard_bytes, est.offload_bytes] : [est.offload_bytes, est.onboard_bytes];
    return {
      direction: ph.direction,
      copied_bytes: ph.bytes,
      counted_bytes: counted,
      ratio: counted / ph.bytes,
      other_direction_bytes: otherCounted,
      copy_gbps: ph.gbps,
      payload_ratio: mine === null ? null : mine / ph.bytes,
      other_direction_payload_bytes: theirs,
      ...(noFraming ? { payload_null_reason: noFraming } : {}),
    };
  });
  const overhead = cap.with_sampler.map((m, i) => {
    const b = cap.baseline[i]!;
    return { direction: m.direction, baseline_gbps: b.gbps, with_sampler_gbps: m.gbps, slowdown_pct: (b.gbps / m.gbps - 1) * 100 };
  });
  return {
    device: cap.device,
    method: plan.pcie.get(0)?.method ?? null,
    period_ms_requested: cap.period_ms,
    period_ms_achieved: { median: quantile(gaps, 0.5), p99: quantile(gaps, 0.99), max: Math.max(...gaps) },
    points: points.length,
    framing: framing?.ok ? framing.framing : null,
    ...(noFraming ? { framing_null_reason: noFraming } : {}),
    phases,
    overhead,
  };
}
