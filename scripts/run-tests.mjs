// `make test`: every compiled test file of every workspace package (and deploy/test), in three lanes.
//
//   unit     *.unit.test.ts     no processes (scripts/unit-lane-guard.mjs makes starting one fail the
//                               test); runs first, alone, on every core: the fast answer.
//   process  *.test.ts          starts real processes (nats-server, services, engines) on free ports.
//   browser  *.browser.test.ts  headless Chromium against real services, on free ports.
//
// The process and browser lanes run in parallel after the unit lane (every test takes free ports, so
// they share none). A lane is decided by the file name alone, so membership cannot drift; CONTRIBUTING.md
// says which lane a new test belongs in.
//
// Usage: node scripts/run-tests.mjs [--lane unit|process|browser ...] [package-dir-substring ...]
//   e.g. `node scripts/run-tests.mjs --lane unit`, `node scripts/run-tests.mjs engine-sim`.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { LANES, laneOf, scheduleOrder } from './test-lanes.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const lanesAsked = [];
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--lane') lanesAsked.push(args[++i]);
  else if (args[i].startsWith('--lane=')) lanesAsked.push(args[i].slice('--lane='.length));
  else filters.push(args[i]);
}
for (const l of lanesAsked) {
  if (!LANES.includes(l)) {
    console.error(`unknown lane '${l}': one of ${LANES.join(', ')}`);
    process.exit(2);
  }
}

const files = [];
const stale = [];
const walk = (dir, srcDir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, join(srcDir, name));
    else if (name.endsWith('.test.js')) {
      // Only outputs whose source still exists: tsc -b never deletes the output of a renamed test.
      if (existsSync(join(srcDir, name.replace(/\.js$/, '.ts')))) files.push(p);
      else stale.push(p);
    }
  }
};
for (const group of ['libs', 'services', 'apps']) {
  for (const pkg of readdirSync(join(ROOT, group))) {
    const dir = join(group, pkg, 'dist', 'test');
    if (!existsSync(join(ROOT, dir))) continue;
    if (filters.length && !filters.some((f) => dir.includes(f))) continue;
    walk(join(ROOT, dir), join(ROOT, group, pkg, 'test'));
  }
}
// deploy/ and bench/ are no packages: their tests are plain .mjs files (they use the packages' built dist).
for (const dir of ['deploy/test', 'bench/test']) {
  if (!existsSync(join(ROOT, dir)) || (filters.length && !filters.some((f) => dir.includes(f)))) continue;
  for (const name of readdirSync(join(ROOT, dir))) if (name.endsWith('.test.mjs')) files.push(join(ROOT, dir, name));
}
if (files.length === 0) {
  console.error('no test files found: run `make build` first');
  process.exit(1);
}
for (const s of stale) console.error(`skipped ${relative(ROOT, s)}: its source is gone (a renamed or deleted test; \`make clean\` removes it)`);

// Each file's time in the last run that ran it (ignored by git, beside the installed packages): a
// lane starts its longest files first (scheduleOrder). Order only: no result depends on it.
const TIMES_CACHE = join(ROOT, 'node_modules/.cache/kvbench/test-times.json');
let lastMs = {};
try {
  lastMs = JSON.parse(readFileSync(TIMES_CACHE, 'utf8'));
} catch {
  /* first run here: the default order */
}
const inOrder = (lane) => scheduleOrder(files.filter((f) => laneOf(f) === lane).map((f) => relative(ROOT, f)), lastMs).map((f) => join(ROOT, f));
const byLane = Object.fromEntries(LANES.map((l) => [l, inOrder(l)]));
const wanted = (l) => (lanesAsked.length === 0 || lanesAsked.includes(l)) && byLane[l].length > 0;
const cores = availableParallelism();
const reportDir = mkdtempSync(join(tmpdir(), 'kvbench-test-times-'));

/** One lane as one `node --test`; its output lines prefixed with the lane when lanes run side by side. */
function runLane(lane, { concurrency, prefix, preload = [] }) {
  const times = join(reportDir, `${lane}.json`);
  const argv = [
    ...preload.flatMap((p) => ['--import', p]),
    // node:test has no per-test deadline by default, so one hung test hung `make test` for good (the
    // aggregator's faults test, once, in app.close). Ten minutes names the hang; no test here is near it.
    '--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    `--test-reporter=${join(ROOT, 'scripts/file-times-reporter.mjs')}`, `--test-reporter-destination=${times}`,
    ...byLane[lane],
  ];
  const started = process.hrtime.bigint();
  const loadAtStart = loadavg()[0];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, KVBENCH_TEST_LANE: lane }, stdio: ['ignore', prefix ? 'pipe' : 'inherit', prefix ? 'pipe' : 'inherit'] });
    if (prefix) {
      for (const stream of [child.stdout, child.stderr]) {
        let rest = '';
        stream.on('data', (d) => {
          const lines = (rest + d).split('\n');
          rest = lines.pop();
          for (const line of lines) process.stdout.write(`[${lane}] ${line}\n`);
        });
        stream.on('end', () => rest && process.stdout.write(`[${lane}] ${rest}\n`));
      }
    }
    child.on('exit', (code, signal) => {
      let perFile = {};
      try {
        perFile = JSON.parse(readFileSync(times, 'utf8'));
      } catch {
        /* the lane died before its reporter wrote */
      }
      resolve({ lane, ok: code === 0, code: code ?? signal, files: byLane[lane].length, seconds: Number(process.hrtime.bigint() - started) / 1e9, loadAtStart, perFile });
    });
  });
}

// Three process-lane files at a time: they mostly wait (on engines starting, long polls, ack waits),
// not compute. Measured on this 2-core machine at load 6-10 (other work beside it): 287 s at three,
// 401 s at two (that run before a change that took about 27 s off multihost), each lane using about
// one core of CPU. KVBENCH_PROCESS_CONCURRENCY overrides it.
const PROCESS_CONCURRENCY = Number(process.env.KVBENCH_PROCESS_CONCURRENCY ?? 3);
if (!Number.isInteger(PROCESS_CONCURRENCY) || PROCESS_CONCURRENCY < 1) {
  console.error(`KVBENCH_PROCESS_CONCURRENCY: a whole number of files at a time, at least 1 (got '${process.env.KVBENCH_PROCESS_CONCURRENCY}')`);
  process.exit(2);
}
const results = [];
if (wanted('unit')) results.push(await runLane('unit', { concurrency: cores, preload: [join(ROOT, 'scripts/unit-lane-guard.mjs')] }));
const parallel = ['process', 'browser'].filter(wanted);
const both = parallel.length > 1;
const after = await Promise.all(parallel.map((lane) =>
  // The browser lane (one Chromium at a time) beside the process lane (PROCESS_CONCURRENCY files).
  runLane(lane, { concurrency: lane === 'browser' ? 1 : PROCESS_CONCURRENCY, prefix: both }),
));
results.push(...after);
rmSync(reportDir, { recursive: true, force: true });
try {
  for (const r of results) for (const [f, t] of Object.entries(r.perFile)) lastMs[relative(ROOT, f)] = Math.round(t.ms);
  mkdirSync(dirname(TIMES_CACHE), { recursive: true });
  writeFileSync(TIMES_CACHE, JSON.stringify(lastMs, null, 1) + '\n');
} catch (err) {
  console.error(`could not keep the file times in ${TIMES_CACHE}: ${err.message}`);
}

console.log('\nlanes (wall time; load = 1-minute load average at the lane start):');
for (const r of results) {
  console.log(`  ${r.lane.padEnd(8)} ${r.ok ? 'pass' : `FAIL (${r.code})`}  ${String(r.files).padStart(3)} files  ${r.seconds.toFixed(1).padStart(6)} s  load ${r.loadAtStart.toFixed(2)}`);
  const slowest = Object.entries(r.perFile).sort((a, b) => b[1].ms - a[1].ms).slice(0, 5);
  for (const [f, t] of slowest) console.log(`           ${(t.ms / 1000).toFixed(1).padStart(6)} s  ${relative(ROOT, f)}${t.failed ? '  (failed)' : ''}`);
}
console.log(`  load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}; ${cores} cores`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
