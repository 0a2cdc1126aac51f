import { connectNats, serviceLogger } from '@kvbench/common';
import { agentConfigFromEnv } from './config.js';
import { HostAgent } from './agent.js';

/** The host-agent process: config from the environment, one agent, graceful stop on SIGINT/SIGTERM. */
const config = agentConfigFromEnv();
const log = serviceLogger(config.logLevel, `agent-${config.systemLabel}`);
const nc = await connectNats(config.nats, `kvbench-agent-${config.systemLabel}`);
const agent = await HostAgent.start(config, { nc, log });

let closing = false;
const close = async (signal: string) => {
  if (closing) return;
  closing = true;
  log.info({ signal }, 'stopping');
  await agent.stop();
  await nc.drain();
  process.exit(0);
};
process.on('SIGINT', () => void close('SIGINT'));
process.on('SIGTERM', () => void close('SIGTERM'));
