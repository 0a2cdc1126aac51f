export { startNatsServer, tempDir, type NatsServerHandle } from './nats-server.js';
export { spawnLogged, stopProcess, type LoggedProcessOptions } from './child.js';
export { READY_TIMEOUT_MS, canListen, portOpen, preferredOrNextFreePort, waitFor } from './wait.js';
export { freePort } from '@kvbench/common';
export { serviceLogger } from './logger.js';
export { closeOnSignals } from './shutdown.js';
export { prettyJsonPlugin } from './pretty-json.js';
export { apiDocsPlugin, type ApiDocsOptions } from './api-docs.js';
