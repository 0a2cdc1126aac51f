// Process management is product code (`kvbench up` and the demo use it); tests take it from there.
export { freePort, startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@kvbench/processes';
