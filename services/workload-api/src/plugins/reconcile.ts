import fp from 'fastify-plugin';
import { reconcileRuns, type RunsContext } from '../runs/index.js';

export interface ReconcilePluginOptions {
  context: () => RunsContext;
  /** Milliseconds between passes; 0 turns reconciling off. */
  intervalMs: number;
}

/**
 * Reconciles the runs bucket with the job queue every `intervalMs` (runs/reconcile.ts): nothing else
 * notices a queued run whose job can no longer be delivered, or a running run whose agent is gone.
 * A pass that fails (bus down) is logged and the next one tries again; passes never overlap.
 */
export default fp<ReconcilePluginOptions>(
  async (app, opts) => {
    if (opts.intervalMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    let inFlight: Promise<void> = Promise.resolve();
    const pass = () => {
      inFlight = reconcileRuns(opts.context(), app.log).then(
        () => undefined,
        (err) => app.log.warn({ err: String(err) }, 'reconcile pass failed; trying again next interval'),
      ).finally(() => {
        if (!closed) timer = setTimeout(pass, opts.intervalMs);
      });
    };
    app.addHook('onReady', async () => {
      timer = setTimeout(pass, opts.intervalMs);
    });
    app.addHook('preClose', async () => {
      closed = true;
      clearTimeout(timer);
      await inFlight;
    });
  },
  { name: 'reconcile', dependencies: ['kvbench-nats'] },
);
