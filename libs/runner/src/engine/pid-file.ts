/**
 * Engines die with their agent (issue 25). Node has no PR_SET_PDEATHSIG, so an agent killed with
 * SIGKILL leaves its engine running (parent PID 1), holding GPU memory its retry needs. Each engine
 * is the leader of its own process group (spawnEngine), and while it runs its pid and argv are kept
 * in a file in the agent's work dir; the next agent started there reaps what that file names
 * before it takes a job, and an agent that exits normally kills its groups on the way out.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

interface Recorded {
  pid: number;
  argv: string[];
}

let recordPath: string | null = null;
const running = new Map<number, string[]>();

function save(): void {
  if (recordPath === null) return;
  const list: Recorded[] = [...running].map(([pid, argv]) => ({ pid, argv }));
  try {
    // Written whole and renamed: a reader never sees half a file.
    writeFileSync(`${recordPath}.tmp`, JSON.stringify(list));
    renameSync(`${recordPath}.tmp`, recordPath);
  } catch {
    /* the work dir went away: nothing left to reap there either */
  }
}

/** From now on, engines this process launches are recorded in `path`. */
export function recordEnginesIn(path: string): void {
  recordPath = path;
  save();
}

export function engineStarted(pid: number, argv: readonly string[]): void {
  running.set(pid, [...argv]);
  save();
}

export function engineExited(pid: number): void {
  if (running.delete(pid)) save();
}

/** Whether `pid` is still the process we launched (same argv), not a later one that got its number. */
function isSameProcess(pid: number, argv: readonly string[]): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.replace(/\0$/, '') === argv.join('\0');
  } catch {
    return false;
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/**
 * Kill (SIGKILL, whole process group) every engine a predecessor recorded in `path` that is still
 * the same process, then forget the file. Returns the pids killed.
 */
export function reapRecordedEngines(path: string): number[] {
  let list: Recorded[];
  try {
    list = JSON.parse(readFileSync(path, 'utf8')) as Recorded[];
  } catch {
    return [];
  }
  const killed: number[] = [];
  for (const r of Array.isArray(list) ? list : []) {
    if (!Number.isInteger(r?.pid) || r.pid <= 1 || !Array.isArray(r.argv)) continue;
    if (!isSameProcess(r.pid, r.argv)) continue;
    killGroup(r.pid);
    killed.push(r.pid);
  }
  rmSync(path, { force: true });
  return killed;
}

/** Synchronous, for process 'exit': kill every engine group this process still runs. */
export function killRunningEngines(): void {
  for (const pid of running.keys()) killGroup(pid);
  running.clear();
  save();
}
