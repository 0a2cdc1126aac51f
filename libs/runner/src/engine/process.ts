/**
 * A launched engine process: spawned without a shell, in its own process group
 * (so mpirun and its ranks stop together), output written to a log file and the
 * last lines kept for error messages; stopped with SIGTERM, then SIGKILL after a
 * grace period.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { LogTail } from './log-tail.js';
import { engineExited, engineStarted } from './pid-file.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface EngineProcess {
  readonly pid: number;
  readonly argv: readonly string[];
  readonly logPath: string;
  tail(n?: number): string[];
  /** Set once the process has exited. */
  exitInfo(): ExitInfo | null;
  readonly exited: Promise<ExitInfo>;
  /** First URL the process announced ("listening on http://…", uvicorn's "running on http://…"). */
  announcedUrl(): string | null;
  stop(graceMs: number): Promise<ExitInfo>;
}

const ANNOUNCE = /(?:listening on|running on)\s+(https?:\/\/[^\s)]+)/i;

export function describeExit(e: ExitInfo): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

export function spawnEngine(argv: readonly string[], opts: { logPath: string; env?: NodeJS.ProcessEnv; cwd?: string }): EngineProcess {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('empty engine command');
  const log: WriteStream = createWriteStream(opts.logPath, { flags: 'a' });
  log.write(`# kvbench: ${JSON.stringify(argv)}\n`);
  const tail = new LogTail(400);
  let announced: string | null = null;
  let exit: ExitInfo | null = null;

  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env,
    cwd: opts.cwd,
    detached: true, // own process group: stop() signals the whole group
    shell: false,
  });
  // Recorded so that a successor of an agent killed now can reap it (pid-file.ts).
  const pid = child.pid;
  if (pid !== undefined) engineStarted(pid, argv);
  const onOutput = (d: Buffer) => {
    log.write(d);
    tail.push(d.toString('utf8'), (line) => {
      if (announced === null) {
        const m = ANNOUNCE.exec(line);
        if (m) announced = m[1]!.replace(/\/+$/, '');
      }
    });
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);

  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (err) => {
      // spawn failure (ENOENT, EACCES): reported as an exit with the reason in the log
      tail.push(`kvbench: could not start ${cmd}: ${err.message}\n`);
      log.write(`kvbench: could not start ${cmd}: ${err.message}\n`);
      exit ??= { code: null, signal: null };
      resolve(exit);
    });
    child.once('exit', (code, signal) => {
      if (pid !== undefined) engineExited(pid);
      exit = { code, signal };
      log.write(`# kvbench: engine exited (${describeExit(exit)})\n`);
      resolve(exit);
    });
  });
  exited.then(() => log.end()).catch(() => {});

  const signalGroup = (sig: NodeJS.Signals) => {
    if (exit || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  };

  return {
    pid: child.pid ?? -1,
    argv,
    logPath: opts.logPath,
    tail: (n = 40) => tail.tail(n),
    exitInfo: () => exit,
    exited,
    announcedUrl: () => announced,
    async stop(graceMs: number) {
      if (exit) return exit;
      signalGroup('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          signalGroup('SIGKILL');
          resolve();
        }, graceMs);
      });
      await Promise.race([exited, killed]);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };
}
