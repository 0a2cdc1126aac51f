import { buildApp } from './app.js';
import { loadApiConfig } from './config.js';

/** The workload-api process: configuration from the environment, once; close gracefully on signals. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadApiConfig();
  } catch (err) {
    process.stderr.write(`workload-api: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const app = await buildApp(config);
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    // close() runs onClose hooks: the NATS plugin drains its connection there.
    app.close().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'error while closing');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  await app.listen({ port: config.port, host: config.host });
}

main().catch((err) => {
  process.stderr.write(`workload-api: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
