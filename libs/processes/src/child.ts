import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';

/** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
export async function stopProcess(p: ChildProcess, graceMs = 5000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((done) => {
    const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
    p.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    p.kill(signal);
  });
}

export interface LoggedProcessOptions {
  /** Command and arguments. */
  argv: [string, ...string[]];
  env: NodeJS.ProcessEnv;
  /** Every line the process writes (stdout and stderr) is appended here. */
  logFile: string;
  /** Also handed every chunk of output (e.g. to render it on the terminal). */
  tee?: (chunk: Buffer) => void;
}

/** A child process whose output goes to its own log file (appended, so restarts keep history). */
export function spawnLogged(o: LoggedProcessOptions): ChildProcess {
  const log = createWriteStream(o.logFile, { flags: 'a' });
  const child = spawn(o.argv[0], o.argv.slice(1), { env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      log.write(chunk);
      o.tee?.(chunk);
    });
  }
  child.once('exit', () => log.end());
  return child;
}
