import { closeOnSignals, serviceLogger } from '@kvbench/processes';
import { connectNats } from '@kvbench/bus';
import { agentConfigFromEnv } from './config.js';
import { HostAgent } from './agent.js';

/** The host-agent process: config from the environment, one agent, graceful stop on SIGINT/SIGTERM. */
const config = agentConfigFromEnv();
const log = serviceLogger(config.logLevel, `agent-${config.systemLabel}`);
const nc = await connectNats(config.nats, `kvbench-agent-${config.systemLabel}`);
const agent = await HostAgent.start(config, { nc, log });

closeOnSignals(async () => {
  await agent.stop();
  await nc.drain();
}, log, 'stopping');
