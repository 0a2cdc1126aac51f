import { closeOnSignals } from '@kvbench/processes';
import { buildApp } from './app.js';
import { loadAggregatorConfig } from './config.js';

/** The aggregator process: configuration once from the environment, listen, close gracefully. */
async function main(): Promise<void> {
  const config = loadAggregatorConfig();
  const app = await buildApp(config);
  closeOnSignals(() => app.close(), app.log, 'shutting down: stop consuming, commit, drain NATS, close the database');
  await app.listen({ port: config.port, host: config.host });
}

main().catch((err) => {
  process.stderr.write(`aggregator: ${(err as Error).message}\n`);
  process.exit(1);
});
