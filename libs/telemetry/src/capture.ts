/**
 * The device capture (capture/h2d_d2h_capture.py): host↔device copies of known byte counts while
 * the NVML sidecar ran. This replays the recorded sidecar output through the same converter the
 * sampler uses and sets the link bytes it counted against the bytes copied, phase by phase.
 */
import type { TelemetryPoint } from '@kvbench/common';
import { z } from 'zod';
import { convertNvmlLines, type PcieMethod } from './nvml.js';

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
   * counted × 256 / (256 + overhead) / copied: the payload share under PCIe's TLP framing with a
   * 256-byte max payload — a host→device copy arrives as completions (3-DW header 12 B + STP token
   * 4 B + LCRC 4 B = 20 B each), a device→host copy leaves as 64-bit memory writes (4-DW header 16 B
   * + 8 B = 24 B each). A model of the counter, not a reading: 1.0 means it counts exactly that.
   */
  tlp_payload_ratio: number;
}

export interface CaptureAnalysis {
  device: string;
  method: PcieMethod | null;
  period_ms_requested: number;
  period_ms_achieved: { median: number; p99: number; max: number };
  points: number;
  phases: CapturePhaseResult[];
  /** Copy bandwidth without the sampler over with it, per phase pair: > 0 means the sampler slowed the copies. */
  overhead: { direction: 'h2d' | 'd2h'; baseline_gbps: number; with_sampler_gbps: number; slowdown_pct: number }[];
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

export function analyzeCapture(phasesJson: unknown, sidecarLines: readonly string[], prefer?: readonly PcieMethod[]): CaptureAnalysis {
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
    return {
      direction: ph.direction,
      copied_bytes: ph.bytes,
      counted_bytes: counted,
      ratio: counted / ph.bytes,
      other_direction_bytes: pts.reduce((a, p) => a + (p[other] ?? 0), 0),
      copy_gbps: ph.gbps,
      tlp_payload_ratio: (counted * 256) / (256 + (ph.direction === 'h2d' ? 20 : 24)) / ph.bytes,
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
    phases,
    overhead,
  };
}
