export { startNatsServer, tempDir, type NatsServerHandle } from './nats-server.js';
export { spawnLogged, stopProcess, type LoggedProcessOptions } from './child.js';
export { canListen, portOpen, preferredOrNextFreePort, waitFor } from './wait.js';
export { freePort } from '@kvbench/common';
export { serviceLogger } from './logger.js';
export { closeOnSignals } from './shutdown.js';
