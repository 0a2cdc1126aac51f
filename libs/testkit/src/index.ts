// Process management is product code (`kvbench up` and the demo use it); tests take it from there.
import { waitFor as waitForCondition } from '@kvbench/processes';

export { freePort, startNatsServer, tempDir, type NatsServerHandle } from '@kvbench/processes';
export { testJob } from './job.js';
export { listenOnLoopback, type ListeningApp } from './listen.js';
export { untilOutput } from './output.js';
export { successfulSample } from './sample.js';

/**
 * `waitFor` of @kvbench/processes with a test's default deadline: two minutes, not ten seconds. A
 * deadline in a test only turns a hang into a message; on a loaded machine a start or a commit can
 * take far longer than on a quiet one, and that must not fail the test.
 */
export const waitFor: typeof waitForCondition = (check, opts = {}) => waitForCondition(check, { timeoutMs: 120_000, ...opts });
