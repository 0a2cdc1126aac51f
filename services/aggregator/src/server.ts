import { buildApp } from './app.js';
import { loadAggregatorConfig } from './config.js';

/** The aggregator process: configuration once from the environment, listen, close gracefully. */
async function main(): Promise<void> {
  const config = loadAggregatorConfig();
  const app = await buildApp(config);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: stop consuming, commit, drain NATS, close the database');
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  await app.listen({ port: config.port, host: config.host });
}

main().catch((err) => {
  process.stderr.write(`aggregator: ${(err as Error).message}\n`);
  process.exit(1);
});
