// benchmark_results.json as users keep it (COMMANDS.md: "Use the SAME ... results.json files"):
// a file the original tool wrote, files kvbench must refuse before it starts an engine, a merge
// that fails after the run, and merges from two processes at the same moment. Real files, real
// `kvbench` processes on the simulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, utimes, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import lockfile from 'proper-lockfile';
import { ResultsDocument, parseResultsFile, type RunResult } from '@kvbench/common';
import { mergeRunIntoResultsFile } from '@kvbench/cli';
import { tempDir } from '@kvbench/testkit';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const WORKER = fileURLToPath(new URL('./fixtures/merge-worker.js', import.meta.url));
// Written the way benchmark_kv_offload.py writes (json.dumps(indent=2): "\u2013" escapes, no final
// newline); 2 batches of 2 requests at 512 tokens, the shape of the workload generated below.
const ORIGINAL = fileURLToPath(new URL('../../test/fixtures/original-tool-results.json', import.meta.url));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `kvbench ...` as a child process; `onStderr` sees its log as it comes. TMPDIR keeps its engine files in `tmp`. */
function kvbench(args: string[], tmp: string, onStderr?: (text: string) => void): Promise<Exit> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    onStderr?.(stderr);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function setup() {
  const dir = await tempDir('kvbench-results-');
  const tmp = join(dir.path, 'tmp');
  await mkdir(tmp);
  const wl = join(dir.path, 'workload.json');
  const g = await kvbench(['workload', 'generate', '--contexts', '512', '--batches-per-context', '2', '--batch-sizes', '2',
    '--prompt-pool-size', '2', '--reuse-start-batch', '1', '--seed', '3', '--out', wl], tmp);
  assert.equal(g.code, 0, g.stderr);
  const bench = (label: string, out: string, onStderr?: (text: string) => void) =>
    kvbench(['bench', '--model', 'meta-llama/Llama-3.1-8B-Instruct', '--config_module', `config_${label}`, '--system_label', label,
      '--workload_json', wl, '--output_json', out, '--max_batch_size', '4', '--max_seq_len', '4096', '--time_scale', '0.2',
      `--${label}_gpu_kv_max_tokens`, '2048', `--${label}_host_cache_gb`, '1'], tmp, onStderr);
  /** The runner keeps every engine's config and log under <tmpdir>/kvbench-runs: absent = no engine was launched. */
  const engineLaunched = () => existsSync(join(tmp, 'kvbench-runs'));
  return { dir, tmp, wl, bench, engineLaunched };
}

/** The exact text of runs.<label>[i] in a JSON document. */
function runText(text: string, label: string, i: number): string {
  const node = findNodeAtLocation(parseTree(text)!, ['runs', label, i])!;
  return text.slice(node.offset, node.offset + node.length);
}

test('a results file written by the original tool: two bench processes merge into it at once, its run kept byte for byte, report pairs it', { timeout: 300_000 }, async () => {
  const { dir, bench, engineLaunched } = await setup();
  try {
    const out = join(dir.path, 'benchmark_results.json');
    await copyFile(ORIGINAL, out);
    const original = await readFile(ORIGINAL, 'utf8');
    // Two c2c runs at once into the same file (their merges may overlap): both must land.
    const [first, second] = await Promise.all([bench('c2c', out), bench('c2c', out)]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(engineLaunched());
    assert.match(first.stdout, /merged into .*benchmark_results\.json under runs\.c2c/);

    const text = await readFile(out, 'utf8');
    // The original's run is untouched, byte for byte (Python's "\u2013" escape included), and comes first.
    assert.equal(runText(text, 'pcie', 0), runText(original, 'pcie', 0));
    assert.match(runText(text, 'pcie', 0), /"notes": "PCIe Gen5 baseline \\u2013 H100"/);
    const file = parseResultsFile(JSON.parse(text), 'merged file');
    assert.deepEqual(file.runs.pcie!.map((r) => r.origin), ['original-tool']);
    assert.deepEqual(file.runs.c2c!.map((r) => r.origin), ['kvbench', 'kvbench']);
    for (const r of file.runs.c2c!) assert.equal((r.run as RunResult).samples.length, 4);
    const c2cRun = file.runs.c2c![1]!.run as RunResult;

    // The report reads the file and compares the original's pcie run with the latest c2c run, request by request.
    const r = await kvbench(['report', out], dir.path);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pcie is from the original tool \(benchmark_kv_offload\.py\), 2025-11-03T14:02:11Z: its TTFT and latency are the wall time of the whole batch/);
    const c2cId = (c2cRun.run_meta as { run_id: string }).run_id;
    assert.match(r.stdout, new RegExp(`paired with c2c ${c2cId} by \\(batch index, index in batch\\): the same 4 requests`));
    // All 4 requests paired (no "left out" note), the original's batch wall times as its TTFT: p50 1403 ms, p99 1873 ms.
    assert.doesNotMatch(r.stdout, /left out/);
    assert.match(r.stdout, /all\s+all\s+PCIe \(base\)\s+4\s+0\s+1403\s+1873\s+1873/);
    assert.match(r.stdout, /PCIe\s+1\.43\s+- \(not measured by the original tool\)/);
  } finally {
    await dir.cleanup();
  }
});

test('an output file that cannot take the run is refused before any engine starts', { timeout: 300_000 }, async () => {
  const { dir, wl, bench, engineLaunched } = await setup();
  try {
    const malformed = join(dir.path, 'malformed.json');
    await writeFile(malformed, '{"runs": {"pcie": [');
    const notResults = join(dir.path, 'workload-by-mistake.json');
    await copyFile(wl, notResults);
    const foreign = join(dir.path, 'foreign.json');
    await writeFile(foreign, JSON.stringify({ runs: { pcie: [{ aggregate: {}, samples: [{ batch_index: 0, request_index_in_batch: 0, ttft_seconds: 'slow' }] }] } }));
    const aDirectory = join(dir.path, 'results-dir');
    await mkdir(aDirectory);
    // Tests run as root, which writes anywhere chmod allows nobody: a "directory" that is a regular file cannot be written for real.
    const underAFile = join(wl, 'benchmark_results.json');

    const cases: [string, RegExp][] = [
      [malformed, /is not valid JSON .*refusing to overwrite it/],
      [notResults, /not a results document: "runs" is missing/],
      [foreign, /runs\.pcie\.0 \(a run of the original tool\): samples\.0\.ttft_seconds/],
      [aDirectory, /is a directory, not a results file/],
      [underAFile, /cannot be created: a part of its path is a file, not a directory/],
    ];
    for (const [path, reason] of cases) {
      const before = await readFile(path, 'utf8').catch(() => null);
      const r = await bench('pcie', path);
      assert.notEqual(r.code, 0, `${path} accepted`);
      assert.ok(r.stderr.includes(`results file ${path}: `), `message names the file: ${r.stderr}`);
      assert.match(r.stderr, reason);
      assert.doesNotMatch(r.stderr, /starting engine/);
      assert.ok(!engineLaunched(), `an engine was launched for ${path}`);
      if (before !== null) assert.equal(await readFile(path, 'utf8'), before, `${path} changed`);
    }
  } finally {
    await dir.cleanup();
  }
});

test('a merge that fails after the run leaves the run in a side file named after its run id', { timeout: 300_000 }, async () => {
  const { dir, bench } = await setup();
  try {
    const out = join(dir.path, 'benchmark_results.json');
    await copyFile(ORIGINAL, out);
    // Someone breaks the file while the benchmark runs (it was fine when the run started).
    const broken = '{"runs": {"pcie": [ truncated by an editor';
    let corrupted: Promise<void> | undefined;
    const r = await bench('c2c', out, (log) => {
      if (!corrupted && log.includes('replaying workload')) corrupted = writeFile(out, broken);
    });
    await corrupted;
    assert.ok(corrupted, 'the run never started replaying');
    assert.equal(r.code, 1, r.stderr);
    assert.equal(await readFile(out, 'utf8'), broken, 'the broken file is left as it is');
    const m = /the run is saved in (\S+benchmark_results\.(r-[\w-]+)\.json)/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.match(r.stderr, /results file .*benchmark_results\.json: is not valid JSON/);
    const [, side, runId] = m;
    assert.equal(side, join(dir.path, `benchmark_results.${runId}.json`));
    const doc = ResultsDocument.parse(JSON.parse(await readFile(side!, 'utf8')));
    assert.equal(doc.runs.c2c?.length, 1);
    assert.equal((doc.runs.c2c![0]!.run_meta as { run_id: string }).run_id, runId);
    assert.equal(doc.runs.c2c![0]!.samples.length, 4);
    // The side file is a results document `kvbench report` reads.
    const rep = await kvbench(['report', side!], dir.path);
    assert.equal(rep.code, 0, rep.stderr);
    assert.match(rep.stdout, new RegExp(`C2C=${runId}`));
  } finally {
    await dir.cleanup();
  }
});

/** A worker process that merges `count` runs into `path` once it reads a line. */
async function startWorker(path: string, label: string, count: number, prefix: string) {
  const child = spawn(process.execPath, [WORKER, path, label, String(count), prefix], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  while (!out.includes('ready')) await once(child.stdout, 'data');
  const exited = once(child, 'exit') as Promise<[number | null]>;
  return { go: () => child.stdin.write('go\n'), exited };
}

test('two processes merging into one file at the same moment keep every run', { timeout: 120_000 }, async () => {
  const dir = await tempDir('kvbench-merge-');
  try {
    const out = join(dir.path, 'benchmark_results.json');
    await copyFile(ORIGINAL, out);
    const original = await readFile(ORIGINAL, 'utf8');
    // Without the lock a read-modify-write pair of this many merges loses runs every time.
    const n = 15;
    const a = await startWorker(out, 'pcie', n, 'a');
    const b = await startWorker(out, 'c2c', n, 'b');
    a.go();
    b.go();
    assert.equal((await a.exited)[0], 0);
    assert.equal((await b.exited)[0], 0);
    const text = await readFile(out, 'utf8');
    const file = parseResultsFile(JSON.parse(text), 'merged file');
    const ids = (label: string) => file.runs[label]!.filter((r) => r.origin === 'kvbench').map((r) => (r.run.run_meta as { run_id: string }).run_id);
    assert.deepEqual(ids('pcie'), Array.from({ length: n }, (_, i) => `a-${i}`));
    assert.deepEqual(ids('c2c'), Array.from({ length: n }, (_, i) => `b-${i}`));
    assert.equal(runText(text, 'pcie', 0), runText(original, 'pcie', 0));
    assert.ok(!existsSync(`${out}.lock`), 'lock released');
    assert.deepEqual((await readdir(dir.path)).sort(), ['benchmark_results.json'], 'no temporary file left');
  } finally {
    await dir.cleanup();
  }
});

test('a lock left by a merge that was killed is taken over once stale', { timeout: 60_000 }, async () => {
  const dir = await tempDir('kvbench-lock-');
  try {
    const out = join(dir.path, 'benchmark_results.json');
    // A process that took the lock and died (SIGKILL) before releasing it.
    const holder = spawn(process.execPath, ['--input-type=module', '-e',
      `import l from 'proper-lockfile'; await l.lock(${JSON.stringify(out)}, { realpath: false }); console.log('locked'); setInterval(() => {}, 1000);`],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] });
    await once(holder.stdout, 'data');
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    assert.ok(await lockfile.check(out, { realpath: false }), 'the dead process still holds the lock');
    // No one refreshes a dead process's lock: age it past the stale limit instead of waiting for it.
    const old = new Date(Date.now() - 60_000);
    await utimes(`${out}.lock`, old, old);
    await mergeRunIntoResultsFile(out, 'pcie', {
      aggregate: { throughput_req_per_s: 1, ttft_p50_s: null, ttft_p95_s: null, ttft_p99_s: null, latency_p50_s: null, latency_p95_s: null, latency_p99_s: null },
      log_metrics: { cache_hit_rate: null, reused_blocks: null, offloaded_blocks: null, observed_offload_bandwidth_gbps: null, sources: {}, null_reasons: {} },
      samples: [],
      run_meta: { run_id: 'after-stale-lock' },
    });
    const doc = ResultsDocument.parse(JSON.parse(await readFile(out, 'utf8')));
    assert.equal((doc.runs.pcie![0]!.run_meta as { run_id: string }).run_id, 'after-stale-lock');
    assert.ok(!existsSync(`${out}.lock`));
  } finally {
    await dir.cleanup();
  }
});
