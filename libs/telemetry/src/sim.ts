/**
 * The simulator's link series, from its model: engine-sim keeps what each iteration's onboards
 * (host→GPU) and offloads (GPU→host) moved, in modelled seconds, and serves it at
 * `GET /sim/link_series?after=<iter>` (services/engine-sim/src/link-series.ts). The periods here
 * are modelled time, the time of the run's samples. Everything it gives is labelled simulated.
 */
import type { TelemetryPoint } from '@kvbench/common';
import { z } from 'zod';
import { emptyPoint, TelemetryUnavailable, type Counter, type TelemetrySource } from './source.js';

export const SimLinkSeries = z
  .object({
    simulated: z.literal(true),
    model_now_s: z.number(),
    /** "virtual": the simulator's clock is the run's (t = 0 is modelled 0); absent on simulators before issue 20's lockstep. */
    clock: z.enum(['real', 'virtual']).optional(),
    block_bytes: z.number().nonnegative(),
    next_after: z.number().int(),
    /** Iterations dropped from the bounded buffer before they were read (0 when none). */
    dropped: z.number().int().nonnegative(),
    entries: z.array(
      z.object({ iter: z.number().int(), start_s: z.number(), end_s: z.number(), h2d_bytes: z.number().nonnegative(), d2h_bytes: z.number().nonnegative() }),
    ),
    power_w: z.number().nullable(),
    power_reason: z.string().nullable(),
  })
  .loose();
export type SimLinkSeries = z.infer<typeof SimLinkSeries>;
type Entry = SimLinkSeries['entries'][number];

/** Buckets iterations into periods of modelled time from `originS`; a period is emitted once the model is past it. */
export class SimBucketer {
  private bins = new Map<number, { h2d: number; d2h: number }>();
  private nextBin = 0;
  constructor(
    private readonly originS: number,
    private readonly periodS: number,
    private readonly powerW: number | null,
  ) {}

  add(entries: readonly Entry[]): void {
    for (const e of entries) {
      // An iteration's transfers happen at its start (they precede its compute). One that started
      // before t = 0 by the clocks' mapping (a few ms) counts in the first period.
      // One recorded after its period was already emitted (the driver ran behind) goes into the
      // first open period, so the series still sums to every byte moved.
      const k = Math.max(this.nextBin, Math.floor((e.start_s - this.originS) / this.periodS));
      const b = this.bins.get(k) ?? { h2d: 0, d2h: 0 };
      b.h2d += e.h2d_bytes;
      b.d2h += e.d2h_bytes;
      this.bins.set(k, b);
    }
  }

  /** Points of every whole period before modelled time `untilS` (all with data when `untilS` is Infinity). */
  take(untilS: number): TelemetryPoint[] {
    const last = Number.isFinite(untilS) ? Math.floor((untilS - this.originS) / this.periodS) - 1 : Math.max(-1, ...this.bins.keys());
    const out: TelemetryPoint[] = [];
    for (; this.nextBin <= last; this.nextBin++) {
      const b = this.bins.get(this.nextBin) ?? { h2d: 0, d2h: 0 };
      this.bins.delete(this.nextBin);
      const p = emptyPoint(0, (this.nextBin + 1) * this.periodS, this.periodS);
      p.pcie_tx_bytes = b.d2h; // sent by the GPU: offload
      p.pcie_rx_bytes = b.h2d; // received by the GPU: onboard
      p.power_w = this.powerW;
      p.energy_j = this.powerW === null ? null : this.powerW * this.periodS;
      out.push(p);
    }
    return out;
  }
}

async function read(url: URL, after: number): Promise<SimLinkSeries> {
  const u = new URL('/sim/link_series', url);
  u.searchParams.set('after', String(after));
  const res = await fetch(u, { signal: AbortSignal.timeout(5000) });
  if (res.status === 404) throw new TelemetryUnavailable('sim', `${u.origin} has no /sim/link_series (an engine-sim older than issue 23)`);
  if (!res.ok) throw new TelemetryUnavailable('sim', `${u.href}: HTTP ${res.status}`);
  return SimLinkSeries.parse(await res.json());
}

const SIM_NONE = 'the simulator models only the link bytes of KV onboards and offloads';

export async function openSimSource(o: { engineUrl: string | URL; periodMs: number; timeScale?: number; pollMs?: number }): Promise<TelemetrySource> {
  const url = new URL(o.engineUrl);
  let first: SimLinkSeries;
  let firstAtNs: bigint;
  try {
    first = await read(url, -1);
    firstAtNs = process.hrtime.bigint();
  } catch (err) {
    if (err instanceof TelemetryUnavailable) throw err;
    throw new TelemetryUnavailable('sim', `${url.origin}/sim/link_series: ${(err as Error).message}`, { cause: err });
  }
  const nullReasons: Partial<Record<Counter, string>> = {
    c2c_tx_bytes: 'simulated: the model puts every KV transfer on one link, reported as the PCIe series (pcie_*) whatever the profile',
    c2c_rx_bytes: 'simulated: the model puts every KV transfer on one link, reported as the PCIe series (pcie_*) whatever the profile',
    util_pct: `simulated: ${SIM_NONE}`,
    sm_clock_mhz: `simulated: ${SIM_NONE}`,
    mem_used_bytes: `simulated: ${SIM_NONE}`,
  };
  if (first.power_w === null) {
    nullReasons.power_w = `simulated: ${first.power_reason ?? 'the hardware profile has no power model'}`;
    nullReasons.energy_j = nullReasons.power_w;
  }
  let after = first.next_after;
  let bucketer: SimBucketer | null = null;
  let timer: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();
  let deliver: (p: TelemetryPoint[]) => void = () => {};
  let dropped = first.dropped;
  const poll = (final: boolean) => {
    chain = chain.then(async () => {
      let s: SimLinkSeries;
      try {
        s = await read(url, after);
      } catch {
        return;
      }
      after = s.next_after;
      dropped += s.dropped;
      bucketer!.add(s.entries);
      // Periods are emitted a second (modelled) behind the model's clock: iterations are recorded
      // as the driver computes them, which can lag its clock on a busy host.
      const pts = bucketer!.take(final ? Infinity : s.model_now_s - 1);
      if (pts.length) deliver(pts);
    });
    return chain;
  };
  const source: TelemetrySource & { dropped(): number } = {
    kind: 'sim',
    simulated: true,
    // No URL here: the engine's address (a port of this execution) is in run_meta.engine.url.
    detail: `simulated: engine-sim's modelled link bytes per iteration (GET /sim/link_series), in periods of ${o.periodMs} ms of modelled time`,
    gpus: [{ index: 0, name: 'simulated', uuid: null }],
    nullReasons,
    start(onPoints, originNs) {
      deliver = onPoints;
      // The run's t = 0 on the model's clock: on the virtual clock modelled 0 (the run's samples count
      // from it; real time since then says nothing about the model). In real time, the model time of
      // the first read less the real time since t = 0 in modelled seconds (the run may have begun
      // before this source opened).
      const originModelS = first.clock === 'virtual' ? 0 : first.model_now_s - Number(firstAtNs - originNs) / 1e9 / (o.timeScale ?? 1);
      bucketer = new SimBucketer(originModelS, o.periodMs / 1000, first.power_w);
      bucketer.add(first.entries);
      timer = setInterval(() => void poll(false), o.pollMs ?? 250);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await poll(true);
    },
    dropped: () => dropped,
  };
  return source;
}
