#!/usr/bin/env node
/**
 * The simulator process, started like trtllm-serve (see cli-args.ts). Prints
 * `listening on http://HOST:PORT` on stdout once ready, so a launcher can learn a port 0 choice.
 */
import { KvbenchError } from '@kvbench/common';
import { closeOnSignals, serviceLogger } from '@kvbench/processes';
import { loadSimEnv, parseSimArgs, USAGE, wantsHelp } from './cli-args.js';
import { startSimServer } from './server.js';

async function main(): Promise<void> {
  // stdout carries the `listening on` line a launcher waits for; the log goes to stderr.
  const log = serviceLogger('info', 'engine-sim', 2);
  if (wantsHelp(process.argv.slice(2))) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const fail = (err: unknown, usage: boolean): never => {
    const msg = err instanceof KvbenchError ? err.message : (err as Error)?.stack ?? String(err);
    process.stderr.write(`engine-sim: error: ${msg}\n${usage ? USAGE + '\n' : ''}`);
    process.exit(err instanceof KvbenchError ? 2 : 1);
  };
  let opts;
  try {
    opts = parseSimArgs(process.argv.slice(2), loadSimEnv());
  } catch (err) {
    return fail(err, true);
  }
  let server;
  try {
    server = await startSimServer({ ...opts, logger: log });
  } catch (err) {
    return fail(err, false);
  }
  process.stdout.write(`listening on ${server.url}\n`);
  closeOnSignals(() => server.close(), log);
}

void main();
