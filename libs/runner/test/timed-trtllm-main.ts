/** The timed engine as its own process (an engine never shares the agent's event loop). Options as JSON in argv[2]; prints its URL. */
import { startTimedEngine } from './timed-trtllm.js';

const engine = await startTimedEngine(JSON.parse(process.argv[2] ?? '{}'));
console.log(`listening on ${engine.url}`);
process.on('SIGTERM', () => void engine.close().then(() => process.exit(0)));
