import type { Logger } from '@kvbench/common';

/**
 * The one graceful-shutdown path of every kvbench process (the services, the host agent, the
 * simulator): on the first SIGINT or SIGTERM, log it, run `close` (for a Fastify app its onClose
 * hooks: stop consuming, commit, drain NATS, close the database), then exit 0, or 1 when closing
 * failed. A second signal while closing is ignored: the close under way finishes.
 */
export function closeOnSignals(close: () => Promise<unknown>, log: Logger, what = 'shutting down'): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, what);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
