import { ValidationError } from '@kvbench/common';
import { parseFlags, usage, type FlagSpecs } from '../args.js';
import type { Command } from '../command.js';
import { watchRun } from '../watch.js';
import { bearerToken } from '../token.js';

const flags: FlagSpecs = {
  api: { type: 'string', required: true, help: 'aggregator URL, e.g. http://127.0.0.1:8081' },
  token: { type: 'string', help: 'bearer token, when the aggregator requires one (READ_TOKEN); default $KVBENCH_TOKEN' },
};
const SUMMARY = 'follow a run live: progress bar (done of total, TTFT p50, ETA), then its summary table';

export const watchCommand: Command = {
  names: [['watch']],
  summary: SUMMARY,
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(usage('watch <runId>', SUMMARY, flags));
      return 0;
    }
    const { flags: f, positionals } = parseFlags(argv, flags);
    if (positionals.length !== 1) throw new ValidationError('one run id expected: kvbench watch <runId> --api URL', 'runId');
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    try {
      const r = await watchRun(String(f.api), positionals[0]!, { token: bearerToken(f), signal: ac.signal });
      return r.status === 'completed' ? 0 : 1;
    } finally {
      process.off('SIGINT', stop);
    }
  },
};
