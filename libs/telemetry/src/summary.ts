import type { LogMetrics, TelemetryPoint, TelemetrySourceKind, TelemetrySummary } from '@kvbench/common';
import { PAYLOAD_MODEL, payloadFromCounted } from './pcie-framing.js';
import type { Counter, Gpu } from './source.js';

/** Link and engine bytes further apart than this (as a fraction) are flagged. */
export const DEFAULT_RATIO_TOLERANCE = 0.1;

export interface SummaryInput {
  source: TelemetrySourceKind;
  detail: string;
  tried: { source: TelemetrySourceKind; reason: string }[];
  simulated: boolean;
  gpus: Gpu[];
  periodMs: number;
  points: readonly TelemetryPoint[];
  nullReasons: Partial<Record<Counter, string>>;
  /** Requests that finished ok, and the tokens they generated (server's count where known). */
  requests: number;
  outputTokens: number;
  /** The engine's figures over the same run, when it reported any. */
  logMetrics: LogMetrics | null;
  tolerance?: number;
}

const GB = 1e9;

/** Sum of one counter over every point, or null when any GPU lacks it entirely. */
function total(points: readonly TelemetryPoint[], k: Counter): number | null {
  let s = 0;
  let any = false;
  for (const p of points) {
    const v = p[k];
    if (v === null) continue;
    s += v;
    any = true;
  }
  return any ? s : null;
}

/** A period counts as busy in a direction when it moved at least this share of the peak period's rate. */
export const BUSY_SHARE = 0.05;

/**
 * Achieved bandwidth: bytes over the seconds of the busy periods (at least BUSY_SHARE of the peak
 * rate in that direction), so idle periods and the trickle of other traffic do not dilute it.
 */
function achieved(points: readonly TelemetryPoint[], k: Counter): { gbps: number | null; peak: number | null } {
  const rates: { v: number; dt: number; r: number }[] = [];
  for (const p of points) {
    const v = p[k];
    if (v === null || v <= 0 || p.dt_s <= 0) continue;
    rates.push({ v, dt: p.dt_s, r: v / p.dt_s / GB });
  }
  if (!rates.length) return { gbps: null, peak: null };
  // A loop, not Math.max(...): a long run has more points than a call takes arguments.
  let peak = -Infinity;
  for (const x of rates) if (x.r > peak) peak = x.r;
  let bytes = 0;
  let secs = 0;
  for (const x of rates) if (x.r >= BUSY_SHARE * peak) (bytes += x.v), (secs += x.dt);
  return { gbps: bytes / secs / GB, peak };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarize(i: SummaryInput): TelemetrySummary {
  const reasons: Record<string, string> = {};
  for (const [k, v] of Object.entries(i.nullReasons)) if (v) reasons[k] = v;
  const pts = i.points;
  const totals = {
    pcie_tx_bytes: total(pts, 'pcie_tx_bytes'),
    pcie_rx_bytes: total(pts, 'pcie_rx_bytes'),
    c2c_tx_bytes: total(pts, 'c2c_tx_bytes'),
    c2c_rx_bytes: total(pts, 'c2c_rx_bytes'),
    energy_j: total(pts, 'energy_j'),
  };
  if (pts.length === 0) reasons['points'] = 'the source delivered no reading during the run window';
  for (const [k, v] of Object.entries(totals)) if (v === null && !reasons[k]) reasons[k] = pts.length ? `no ${k} reading in any period` : reasons['points']!;

  // The KV offload path: C2C where the machine has it and it carried traffic, else PCIe.
  const c2cCarried = (totals.c2c_tx_bytes ?? 0) + (totals.c2c_rx_bytes ?? 0) > 0;
  const link: 'pcie' | 'c2c' | null = c2cCarried ? 'c2c' : totals.pcie_tx_bytes !== null || totals.pcie_rx_bytes !== null ? 'pcie' : null;
  const txKey: Counter = link === 'c2c' ? 'c2c_tx_bytes' : 'pcie_tx_bytes';
  const rxKey: Counter = link === 'c2c' ? 'c2c_rx_bytes' : 'pcie_rx_bytes';
  const off = link ? achieved(pts, txKey) : { gbps: null, peak: null };
  const on = link ? achieved(pts, rxKey) : { gbps: null, peak: null };
  const payload = link === 'pcie' ? pciePayload(pts, i.gpus, i.simulated) : { estimate: null, reason: link === 'c2c' ? 'no framing model for NVLink-C2C: its counters include headers too, of a protocol this estimate does not model' : 'no link byte counter' };
  if (payload.reason) reasons['link_level.payload'] = payload.reason;
  const link_level = {
    link,
    offload_bytes: link ? totals[txKey as keyof typeof totals] : null,
    onboard_bytes: link ? totals[rxKey as keyof typeof totals] : null,
    offload_gbps: off.gbps,
    onboard_gbps: on.gbps,
    peak_offload_gbps: off.peak,
    peak_onboard_gbps: on.peak,
    payload: payload.estimate,
  };
  if (link === null) reasons['link_level'] = reasons['pcie_tx_bytes'] ?? 'no link byte counter';
  else {
    if (off.gbps === null) reasons['link_level.offload_gbps'] = 'no period moved any bytes in the offload direction';
    if (on.gbps === null) reasons['link_level.onboard_gbps'] = 'no period moved any bytes in the onboard direction';
  }

  const tol = i.tolerance ?? DEFAULT_RATIO_TOLERANCE;
  const lm = i.logMetrics;
  const engOff = lm?.offloaded_bytes ?? null;
  const engOn = lm?.onboarded_bytes ?? null;
  const ratio = (a: number | null, b: number | null, name: string): number | null => {
    if (a === null || b === null) {
      reasons[`versus_engine.${name}_ratio`] =
        a === null ? 'no link bytes' : `the engine reported no ${name}ed bytes${lm?.null_reasons?.[`${name}ed_bytes`] ? `: ${lm.null_reasons[`${name}ed_bytes`]}` : ''}`;
      return null;
    }
    if (b === 0) {
      reasons[`versus_engine.${name}_ratio`] = `the engine reported 0 ${name}ed bytes (the link moved ${a} in that direction)`;
      return null;
    }
    return a / b;
  };
  // The engine's bytes are payload: set them against the link's payload where it could be estimated.
  const basis = payload.estimate ? ('payload' as const) : ('counted' as const);
  const linkOff = payload.estimate?.offload_bytes ?? link_level.offload_bytes;
  const linkOn = payload.estimate?.onboard_bytes ?? link_level.onboard_bytes;
  const offR = ratio(linkOff, engOff, 'offload');
  const onR = ratio(linkOn, engOn, 'onboard');
  const disagreements: string[] = [];
  const flag = (r: number | null, what: string, linkB: number | null, engB: number | null) => {
    if (r !== null && Math.abs(r - 1) > tol)
      disagreements.push(`${what}: the link moved ${fmt(linkB)} B${basis === 'payload' ? ' of payload' : ''}, the engine reported ${fmt(engB)} B (ratio ${r.toFixed(3)}, outside 1 ± ${tol})`);
  };
  flag(offR, 'offload (device→host)', linkOff, engOff);
  flag(onR, 'onboard (host→device)', linkOn, engOn);

  const energy = totals.energy_j;
  const perReq = energy !== null && i.requests > 0 ? energy / i.requests : null;
  const perTok = energy !== null && i.outputTokens > 0 ? energy / i.outputTokens : null;
  if (perReq === null) reasons['energy_per_request_j'] = energy === null ? (reasons['energy_j'] ?? 'no energy reading') : 'no request finished';
  if (perTok === null) reasons['energy_per_output_token_j'] = energy === null ? (reasons['energy_j'] ?? 'no energy reading') : 'no token was generated';

  // Peak memory: the largest per-GPU reading (each GPU's own peak, summed over GPUs).
  const peakBy = new Map<number, number>();
  for (const p of pts) if (p.mem_used_bytes !== null) peakBy.set(p.gpu, Math.max(peakBy.get(p.gpu) ?? 0, p.mem_used_bytes));
  const peakMem = peakBy.size ? [...peakBy.values()].reduce((a, b) => a + b, 0) : null;
  if (peakMem === null) reasons['peak_mem_used_bytes'] = reasons['mem_used_bytes'] ?? 'no memory reading';
  let powerSum = 0;
  let powerSecs = 0;
  for (const p of pts) if (p.power_w !== null) (powerSum += p.power_w * p.dt_s), (powerSecs += p.dt_s);
  const gpusN = Math.max(1, new Set(pts.map((p) => p.gpu)).size);
  const meanPower = powerSecs > 0 ? (powerSum / powerSecs) * gpusN : null;
  if (meanPower === null) reasons['mean_power_w'] = reasons['power_w'] ?? 'no power reading';

  // Achieved period: median spacing of successive points of the same GPU.
  const gaps: number[] = [];
  const lastT = new Map<number, number>();
  for (const p of pts) {
    const l = lastT.get(p.gpu);
    if (l !== undefined) gaps.push((p.t_s - l) * 1000);
    lastT.set(p.gpu, p.t_s);
  }
  // Loops, not Math.min(...): a virtual run of the seed workload has ~10^5 points, more than a call takes arguments.
  let first: number | null = null;
  let last: number | null = null;
  for (const p of pts) {
    if (first === null || p.t_s - p.dt_s < first) first = p.t_s - p.dt_s;
    if (last === null || p.t_s > last) last = p.t_s;
  }
  return {
    source: i.source,
    source_detail: i.detail,
    tried: i.tried,
    simulated: i.simulated,
    gpus: i.gpus,
    period_ms_requested: i.periodMs,
    period_ms_achieved: median(gaps),
    points: pts.length,
    window_s: first !== null && last !== null ? last - first : null,
    totals,
    link_level,
    versus_engine: {
      engine_offloaded_bytes: engOff,
      engine_onboarded_bytes: engOn,
      basis,
      offload_ratio: offR,
      onboard_ratio: onR,
      tolerance: tol,
      disagreements,
    },
    energy_per_request_j: perReq,
    energy_per_output_token_j: perTok,
    peak_mem_used_bytes: peakMem,
    mean_power_w: meanPower,
    null_reasons: reasons,
  };
}

/**
 * The payload inside the PCIe bytes counted, GPU by GPU with each one's Max_Payload_Size
 * (pcie-framing.ts); null with the reason when any GPU's framing is unknown.
 */
function pciePayload(points: readonly TelemetryPoint[], gpus: readonly Gpu[], simulated: boolean): { estimate: NonNullable<TelemetrySummary['link_level']['payload']> | null; reason: string | null } {
  if (simulated) return { estimate: null, reason: "the simulator's series counts the KV payload only: no TLP framing to take off" };
  const mps = new Map<number, number>();
  const missing: string[] = [];
  for (const g of gpus) {
    if (g.pcie_framing) mps.set(g.index, g.pcie_framing.max_payload_bytes);
    else missing.push(`gpu ${g.index}: ${g.pcie_framing_null_reason ?? 'its PCIe framing was not read'}`);
  }
  if (missing.length || mps.size === 0) return { estimate: null, reason: `the counters include TLP headers, and the payload inside them needs each GPU's Max_Payload_Size: ${missing.join('; ') || 'no GPU'}` };
  const unframed = points.find((p) => !mps.has(p.gpu));
  if (unframed) return { estimate: null, reason: `gpu ${unframed.gpu} has points but no framing` };
  // One pass, period by period: the totals are the sums of the series the bandwidth reads. Per period
  // because a host→device copy's counted sends are its read requests (9% of the rate), which, left in,
  // would count as busy offload periods and halve the offload figure.
  const payloadPoints = points.map((p) => {
    const est = payloadFromCounted(p.pcie_tx_bytes ?? 0, p.pcie_rx_bytes ?? 0, mps.get(p.gpu)!);
    return { ...p, pcie_tx_bytes: p.pcie_tx_bytes === null ? null : est.offload_bytes, pcie_rx_bytes: p.pcie_rx_bytes === null ? null : est.onboard_bytes };
  });
  const offload = payloadPoints.reduce((sum, p) => sum + (p.pcie_tx_bytes ?? 0), 0);
  const onboard = payloadPoints.reduce((sum, p) => sum + (p.pcie_rx_bytes ?? 0), 0);
  return {
    estimate: {
      offload_bytes: offload,
      onboard_bytes: onboard,
      offload_gbps: achieved(payloadPoints, 'pcie_tx_bytes').gbps,
      onboard_gbps: achieved(payloadPoints, 'pcie_rx_bytes').gbps,
      max_payload_bytes: [...mps.values()],
      model: PAYLOAD_MODEL,
    },
    reason: null,
  };
}

const fmt = (n: number | null) => (n === null ? 'n/a' : Math.round(n).toLocaleString('en-US'));
