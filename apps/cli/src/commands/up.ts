import { mkdir, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ValidationError } from '@kvbench/common';
import { canListen, preferredOrNextFreePort } from '@kvbench/processes';
import { parseFlags, usage, type FlagSpecs } from '../args.js';
import type { Command } from '../command.js';
import { curlExamples } from '../curl-examples.js';
import { startLocalStack } from '../stack.js';
import { serviceOutputRenderer, terminalLogger } from '../terminal-log.js';
import { bearerToken } from '../token.js';

const flags: FlagSpecs = {
  dir: { type: 'string', default: 'kvbench-data', help: "folder for NATS's store, the aggregator's database, agent work dirs and every log" },
  systems: { type: 'string[]', default: ['pcie', 'c2c'], help: 'system labels: one host agent with the simulator per label' },
  api_port: { type: 'int', default: 8080, help: 'workload-api port' },
  aggregator_port: { type: 'int', default: 8081, help: 'aggregator port' },
  nats_port: { type: 'int', default: 4222, help: 'NATS port (the next free one when taken)' },
  host: { type: 'string', default: '127.0.0.1', help: 'address the two HTTP services bind to (0.0.0.0: every interface)' },
  time_scale: { type: 'float', help: 'simulator time scale (each modelled second lasts this many real seconds)' },
  token: { type: 'string', help: 'require this bearer token for writes and reads (AUTH_TOKENS, READ_TOKEN); default $KVBENCH_TOKEN' },
  log_level: { type: 'string', default: 'info', help: 'lowest level of service log lines shown here (every line is in the log files)' },
  fresh: { type: 'bool', default: false, help: 'delete what an earlier `kvbench up` stored in --dir first' },
};
const SUMMARY = 'start the local stack (nats-server, workload-api, aggregator, a simulator agent per system) and keep it up until Ctrl-C';

export const upCommand: Command = {
  names: [['up']],
  summary: SUMMARY,
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(usage('up', SUMMARY, flags));
      return 0;
    }
    const { flags: f } = parseFlags(argv, flags);
    const log = terminalLogger('up');
    const host = String(f.host);
    const dir = resolve(String(f.dir));
    const token = bearerToken(f);
    for (const [flag, port] of [['--api-port', f.api_port], ['--aggregator-port', f.aggregator_port]] as const) {
      if (!(await canListen(Number(port), host))) {
        throw new ValidationError(`port ${port} on ${host} is taken: stop what listens there or choose another with ${flag}`, flag.slice(2));
      }
    }
    const natsPort = await preferredOrNextFreePort(Number(f.nats_port));
    if (natsPort !== f.nats_port) log.warn(`NATS port ${f.nats_port} is taken (another nats-server?): this stack's NATS listens on ${natsPort}`);
    if (f.fresh) await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });

    log.info(`starting nats-server, workload-api, aggregator and ${(f.systems as string[]).length} host agent(s) (${(f.systems as string[]).join(', ')}) in ${dir}`);
    const render = serviceOutputRenderer((t) => process.stderr.write(t), String(f.log_level));
    const stack = await startLocalStack({
      dir,
      systems: f.systems as string[],
      log,
      host,
      ports: { nats: natsPort, api: Number(f.api_port), aggregator: Number(f.aggregator_port) },
      tee: render,
      ...(f.time_scale !== undefined ? { simTimeScale: Number(f.time_scale) } : {}),
      ...(token ? { env: { AUTH_TOKENS: token, READ_TOKEN: token, READS_REQUIRE_AUTH: 'true' } } : {}),
    });
    process.stdout.write(banner(stack, token) + '\n');

    await new Promise<void>((done) => {
      const stop = (signal: string) => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        log.info(`${signal}: stopping everything kvbench up started`);
        done();
      };
      const onInt = () => stop('SIGINT');
      const onTerm = () => stop('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    });
    await stack.stop();
    log.info('stopped');
    return 0;
  },
};

function banner(stack: { apiUrl: string; aggregatorUrl: string; natsUrl: string; logDir: string }, token?: string): string {
  return [
    '',
    'kvbench is up (simulated engines; Ctrl-C stops everything):',
    `  workload-api  ${stack.apiUrl}    Swagger UI ${stack.apiUrl}/docs`,
    `  aggregator    ${stack.aggregatorUrl}    Swagger UI ${stack.aggregatorUrl}/docs`,
    `  NATS          ${stack.natsUrl}`,
    `  agents        ${stack.apiUrl}/agents`,
    `  logs          ${stack.logDir}`,
    ...(token
      ? [
          '',
          'Protected (--token): in Swagger UI press Authorize and give the token; a report or live page link',
          `leads to ${stack.aggregatorUrl}/login once, which trades the token for a browser session (the token never goes in a URL).`,
        ]
      : []),
    '',
    'Try it (copy-paste):',
    curlExamples(stack.apiUrl, stack.aggregatorUrl, token),
    '',
  ].join('\n');
}
