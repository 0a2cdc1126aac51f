import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { READY_TIMEOUT_MS, freePort, spawnLogged, startNatsServer, stopProcess, waitFor, type NatsServerHandle } from '@kvbench/processes';
import type { Logger } from '@kvbench/common';
import { agentUserName, perLabelUsersConf } from './nats-users.js';

const require = createRequire(import.meta.url);
/** The deployment's NATS users (one per role, each allowed only its service's subjects). */
const USERS_CONF = fileURLToPath(new URL('../../../../deploy/nats/users.conf', import.meta.url));

/**
 * NATS user and password of each role, as users.conf names them, except that agents get one user
 * per system label (nats-users.ts: each reads only its own system's jobs); made per start.
 */
export interface BusCredentials {
  api: { user: string; password: string };
  /** By system label. */
  agents: Map<string, { user: string; password: string }>;
  aggregator: { user: string; password: string };
}

/** Path of a service's compiled process entry (server.js beside its index.js). */
const serverEntry = (pkg: string) => join(dirname(require.resolve(pkg)), 'server.js');

export interface LocalStackOptions {
  /** Folder for the NATS store, the database, agent work dirs and every process's log. */
  dir: string;
  systems: string[];
  log: Logger;
  /** Simulator time scale passed to the agents (SIM_TIME_SCALE). */
  simTimeScale?: number;
  /** Extra environment for every service (e.g. auth tokens). */
  env?: Record<string, string>;
  /** Ports to listen on; a free one is chosen for each that is not given. */
  ports?: { nats?: number; api?: number; aggregator?: number };
  /** Host the two HTTP services bind to (default 127.0.0.1). */
  host?: string;
  /** Handed every chunk a service writes (its log is a file either way), with the service's name. */
  tee?: (name: string, chunk: Buffer) => void;
  /**
   * Per-role NATS users (deploy/nats/users.conf) with passwords generated for this start: on by
   * default, as in a deployment, so no one without a role's password reaches the bus and an agent
   * cannot submit jobs. false: an open server (tests that play the operator on the bus).
   */
  busAuth?: boolean;
  /** Systems whose agents start later (startAgent): each gets its bus user now, like `systems`. */
  agentLabels?: string[];
}

export interface LocalStack {
  natsUrl: string;
  apiUrl: string;
  aggregatorUrl: string;
  logDir: string;
  nats: NatsServerHandle;
  processes: Map<string, ChildProcess>;
  /** The roles' NATS credentials; null when the bus is open (busAuth: false). */
  bus: BusCredentials | null;
  /**
   * EVENT_SIGNING_SECRET of workload-api and aggregator, made per start (or taken from opts.env):
   * every run event must be signed with its run's key (issue 25). Agents never get it.
   */
  eventSigningSecret: string;
  /**
   * Start (or restart) one agent. `instance` starts another agent of the same system beside it
   * (process `agent-<system>-<instance>`, its own work dir).
   */
  startAgent(system: string, instance?: string): Promise<ChildProcess>;
  stop(): Promise<void>;
}

/**
 * nats-server, workload-api, aggregator and one host agent per system, each a real
 * process with its own log file under `dir/logs`. What `kvbench up`, `make demo` and the
 * end-to-end tests run.
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const dir = resolve(opts.dir);
  const logDir = join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const processes = new Map<string, ChildProcess>();
  // nats-server parses an environment variable's value as a config token: one starting with a digit is
  // read as a number and the server refuses to start ("Expected a digit"), and base64url starts with a
  // digit about one time in six. A letter first and hex after is always a plain string.
  const password = () => `kvb${randomBytes(18).toString('hex')}`;
  const bus: BusCredentials | null = opts.busAuth === false
    ? null
    : {
        api: { user: 'kvbench-api', password: password() },
        agents: new Map([...new Set([...opts.systems, ...(opts.agentLabels ?? [])])].map((s) => [s, { user: agentUserName(s), password: password() }])),
        aggregator: { user: 'kvbench-aggregator', password: password() },
      };
  // Always on, bus auth or not: only the agent holding a run's job can publish its events.
  const eventSigningSecret = opts.env?.['EVENT_SIGNING_SECRET'] ?? randomBytes(32).toString('hex');
  const natsArgs = ['-l', join(logDir, 'nats-server.log')];
  let natsEnv: NodeJS.ProcessEnv | undefined;
  if (bus) {
    // A copy beside the store (nats-server resolves includes relative to the including file), with
    // one agent user per system; the agents' passwords are written in it, so it is the owner's only.
    const conf = join(dir, 'nats-users.conf');
    const agentPasswords = new Map([...bus.agents].map(([s, c]) => [s, c.password]));
    await writeFile(conf, perLabelUsersConf(await readFile(USERS_CONF, 'utf8'), agentPasswords), { mode: 0o600 });
    natsArgs.push('-c', conf);
    natsEnv = {
      ...process.env,
      KVBENCH_NATS_API_PASSWORD: bus.api.password,
      KVBENCH_NATS_AGGREGATOR_PASSWORD: bus.aggregator.password,
    };
  }
  const nats = await startNatsServer({
    storeDir: join(dir, 'nats'),
    ...(opts.ports?.nats !== undefined ? { port: opts.ports.nats } : {}),
    args: natsArgs,
    ...(natsEnv ? { env: natsEnv } : {}),
  });
  const role = (r: 'api' | 'aggregator') => (bus ? { NATS_USER: bus[r].user, NATS_PASSWORD: bus[r].password } : {});
  const agentRole = (system: string) => {
    if (!bus) return {};
    const c = bus.agents.get(system);
    // Users are fixed at start: a SIGHUP reload of the users file on nats-server 2.9.10 left every
    // client's JetStream API requests timing out (seen here), so no user is added later.
    if (!c) throw new Error(`no bus user for system '${system}': name it in systems or agentLabels when the stack starts`);
    return { NATS_USER: c.user, NATS_PASSWORD: c.password };
  };
  // The signing secret goes only to the two services given it below (spawn drops undefined values).
  const baseEnv = { ...process.env, NATS_URL: nats.url, LOG_LEVEL: 'info', ...opts.env, EVENT_SIGNING_SECRET: undefined };
  let stopping = false;

  const spawnService = (name: string, entry: string, env: Record<string, string | undefined>) => {
    const logFile = join(logDir, `${name}.log`);
    const child = spawnLogged({
      argv: [process.execPath, entry],
      env: { ...baseEnv, ...env },
      logFile,
      ...(opts.tee ? { tee: (chunk: Buffer) => opts.tee!(name, chunk) } : {}),
    });
    child.on('exit', (code, signal) => {
      if (!stopping) opts.log.warn(`${name} exited (${signal ?? code}); log: ${logFile}`);
    });
    processes.set(name, child);
    return child;
  };

  const host = opts.host ?? '127.0.0.1';
  const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  const apiPort = opts.ports?.api ?? (await freePort());
  const aggPort = opts.ports?.aggregator ?? (await freePort());
  const aggregatorUrl = `http://${urlHost}:${aggPort}`;
  const apiUrl = `http://${urlHost}:${apiPort}`;
  spawnService('aggregator', serverEntry('@kvbench/aggregator'), {
    PORT: String(aggPort),
    HOST: host,
    DB_PATH: join(dir, 'aggregator.sqlite'),
    EVENT_SIGNING_SECRET: eventSigningSecret,
    ...role('aggregator'),
  });
  spawnService('workload-api', serverEntry('@kvbench/workload-api'), {
    PORT: String(apiPort),
    HOST: host,
    AGGREGATOR_URL: aggregatorUrl,
    EVENT_SIGNING_SECRET: eventSigningSecret,
    ...role('api'),
  });
  const startAgent = async (system: string, instance?: string) =>
    spawnService(instance ? `agent-${system}-${instance}` : `agent-${system}`, serverEntry('@kvbench/host-agent'), {
      SYSTEM_LABEL: system,
      AGENT_WORK_DIR: join(dir, instance ? `agent-${system}-${instance}` : `agent-${system}`),
      ...agentRole(system),
      ...(opts.simTimeScale !== undefined ? { SIM_TIME_SCALE: String(opts.simTimeScale) } : {}),
    });
  for (const s of opts.systems) await startAgent(s);

  const stop = async () => {
    stopping = true;
    await Promise.all([...processes.values()].map((p) => stopProcess(p)));
    await nats.stop();
  };
  try {
    for (const url of [apiUrl, aggregatorUrl]) {
      await waitFor(
        async () => {
          const dead = [...processes].find(([, p]) => p.exitCode !== null || p.signalCode !== null);
          if (dead) throw new Error(`${dead[0]} exited while starting; log: ${join(logDir, `${dead[0]}.log`)}`);
          return (await fetch(`${url}/health`).catch(() => undefined))?.ok;
        },
        { timeoutMs: READY_TIMEOUT_MS, what: `${url}/health` },
      );
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { natsUrl: nats.url, apiUrl, aggregatorUrl, logDir, nats, processes, bus, eventSigningSecret, startAgent, stop };
}
