import { closeOnSignals } from '@kvbench/processes';
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
  // close() runs onClose hooks: the NATS plugin drains its connection there.
  closeOnSignals(() => app.close(), app.log);
  await app.listen({ port: config.port, host: config.host });
}

main().catch((err) => {
  process.stderr.write(`workload-api: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
