// The README's commands run as written, read from README.md's bash blocks (so the test fails when the
// README and the test drift): every `./kvbench workload …` command (the standalone workload, the
// multi-turn and docqa scenarios, the Mooncake trace import with `--sample-roots 0.05` on the real
// conversation trace), each in a fresh directory holding `./kvbench` (this checkout's) and what the
// command reads; then the standalone block whole (its `--engine trtllm` on the TensorRT-LLM double)
// and the multi-turn, sweep and trace blocks on the simulator; and a check that every other
// `./kvbench` line of the README is run by another test file (the services block:
// readme-services.test.ts) or listed with the reason it is not run here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { tempDir } from '@kvbench/testkit';
import { ROOT, SERVICES_BLOCK, readmeBlocks, writeTrtllmServeDouble } from './readme-blocks.js';

export { readmeBlocks };
const TRACE = fileURLToPath(new URL('../../test/fixtures/mooncake/conversation_trace.jsonl.gz', import.meta.url));

/** Every `./kvbench workload` command in the README's bash blocks, continuation lines joined, comments kept off. */
export async function readmeWorkloadCommands(): Promise<string[]> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const commands = new Set<string>();
  for (const block of blocks) {
    const joined = block.replace(/\\\n\s*/g, '');
    for (const line of joined.split('\n')) if (line.startsWith('./kvbench workload ')) commands.add(line);
  }
  // The services block repeats the standalone block's workload command: run once.
  return [...commands];
}

test('every ./kvbench workload command of the README runs as written', { timeout: 300_000 }, async () => {
  const commands = await readmeWorkloadCommands();
  const trace = commands.find((c) => c.includes('--format mooncake'));
  assert.ok(trace, 'the README has the trace example');
  assert.match(trace, /--sample-roots 0\.05/);
  assert.ok(commands.length >= 4, commands.join('\n'));
  for (const command of commands) {
    const dir = await tempDir('kvbench-readme-');
    try {
      await symlink(join(ROOT, 'kvbench'), join(dir.path, 'kvbench'));
      if (command.includes('conversation_trace.jsonl')) await writeFile(join(dir.path, 'conversation_trace.jsonl'), gunzipSync(await readFile(TRACE)));
      const out = execFileSync('bash', ['-euo', 'pipefail', '-c', command], { cwd: dir.path, encoding: 'utf8', timeout: 240_000 });
      const file = /--out (\S+)/.exec(command)![1]!;
      const doc = JSON.parse(await readFile(join(dir.path, file), 'utf8'));
      assert.equal(doc.schema, 'kvbench.workload', command);
      if (command === trace) {
        // One root (every conversation starts with the same system-prompt block): sampled by conversations.
        assert.match(out, /sampling kept \d+ of 7373 prefix trees/, out);
        assert.equal(doc.params.sampling.roots, 1);
        assert.ok(doc.requests.length > 100, `${doc.requests.length} requests kept`);
        assert.equal(doc.params.sampling.lines_kept, doc.requests.length);
        const show = execFileSync('bash', ['-c', `./kvbench workload show ${file}`], { cwd: dir.path, encoding: 'utf8' });
        assert.doesNotMatch(show, /"params": null/);
        assert.match(show, /"sampling"/);
      }
    } finally {
      await dir.cleanup();
    }
  }
});

/**
 * The README's blocks this test runs whole, as written, each named by a command only it has. The
 * simulator is the engine (the README's default) except in the standalone block, whose
 * `--engine trtllm` launches the `trtllm-serve` first on PATH: here the TensorRT-LLM double
 * (libs/runner/test/fixtures/trtllm-serve-double.mjs) as today's main, 1.3.0rc26, speaking its wire
 * format (docs/ENGINES.md). `curl` is a double on PATH that serves the Mooncake trace from the
 * committed fixture instead of GitHub (no network in a test).
 */
const RUN_HERE: { name: string; has: RegExp }[] = [
  { name: 'standalone', has: /^\.\/kvbench bench --engine trtllm .*--system_label pcie/ },
  { name: 'multiturn', has: /^\.\/kvbench workload generate --kind multiturn/ },
  { name: 'capacity', has: /^\.\/kvbench sweep capacity/ },
  { name: 'offload', has: /^\.\/kvbench sweep offload/ },
  { name: 'trace', has: /^\.\/kvbench workload import --format mooncake/ },
];

/** README blocks another test file runs whole, as written (a file of its own for the parallel process lane). */
const RUN_ELSEWHERE: { name: string; has: RegExp; file: string }[] = [SERVICES_BLOCK];

/** README commands not run here, each with the reason; every entry must still match a README line. */
const NOT_RUN: { line: RegExp; why: string }[] = [
  { line: /^\.\/kvbench watch \$PCIE --api http:\/\/127\.0\.0\.1:8081/, why: 'follows a run of the `kvbench up` stack started by the curl block before it (up.test.ts runs that block; watch.test.ts the command)' },
];

test('every ./kvbench command of the README is run here, by the workload test above, by the file RUN_ELSEWHERE names, or listed with the reason it is not', async () => {
  const blocks = await readmeBlocks();
  const unaccounted: string[] = [];
  const used = new Set<number>();
  for (const block of blocks) {
    const here = [...RUN_HERE, ...RUN_ELSEWHERE].some((r) => block.some((l) => r.has.test(l)));
    for (const line of block.filter((l) => l.startsWith('./kvbench '))) {
      if (here || line.startsWith('./kvbench workload ')) continue;
      const i = NOT_RUN.findIndex((n) => n.line.test(line));
      if (i < 0) unaccounted.push(line);
      else used.add(i);
    }
  }
  assert.deepEqual(unaccounted, [], 'a README command no test runs: run it here or say in NOT_RUN why not');
  assert.deepEqual(NOT_RUN.filter((_, i) => !used.has(i)).map((n) => String(n.line)), [], 'NOT_RUN entries no README line matches any more');
  for (const r of [...RUN_HERE, ...RUN_ELSEWHERE]) assert.equal(blocks.filter((b) => b.some((l) => r.has.test(l))).length, 1, `one README block for ${r.name}`);
});

const execAsync = promisify(execFile);

/** Runs a README block's lines in order in a fresh directory holding ./kvbench and the curl double; answers each line's stdout. */
async function runBlock(block: string[], dir: string): Promise<string[]> {
  await symlink(join(ROOT, 'kvbench'), join(dir, 'kvbench'));
  const bin = join(dir, 'bin');
  await mkdir(bin);
  // curl -LO <url of conversation_trace.jsonl>: the committed copy of that file; anything else is refused.
  await writeFile(join(dir, 'conversation_trace.jsonl.gz'), await readFile(TRACE));
  await writeFile(
    join(bin, 'curl'),
    `#!/bin/sh\n[ "$1" = "-LO" ] && [ "$(basename "$2")" = conversation_trace.jsonl ] || { echo "curl double: only -LO of conversation_trace.jsonl" >&2; exit 2; }\ngunzip -c "${dir}/conversation_trace.jsonl.gz" > conversation_trace.jsonl\n`,
  );
  await chmod(join(bin, 'curl'), 0o755);
  await writeTrtllmServeDouble(bin);
  const out: string[] = [];
  for (const line of block) {
    const r = await execAsync('bash', ['-euo', 'pipefail', '-c', line], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 2 ** 20, env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } }).catch((e: { stderr?: string; message: string }) => {
      throw new Error(`README command failed: ${line}\n${e.stderr ?? e.message}`);
    });
    out.push(r.stdout);
  }
  return out;
}

test('the README\'s standalone (trtllm), multi-turn, capacity sweep, offload sweep and trace blocks run as written (the blocks in parallel)', { timeout: 600_000 }, async () => {
  const blocks = await readmeBlocks();
  const dirs: { cleanup(): Promise<void> }[] = [];
  try {
    await Promise.all(
      RUN_HERE.map(async (r) => {
        const block = blocks.find((b) => b.some((l) => r.has.test(l)))!;
        const dir = await tempDir(`kvbench-readme-${r.name}-`);
        dirs.push(dir);
        const out = await runBlock(block, dir.path);
        const json = async (f: string) => JSON.parse(await readFile(join(dir.path, f), 'utf8'));
        if (r.name === 'standalone') {
          // The seed workload on both presets through `trtllm-serve` (the double), then the paired report.
          const runs = (await json('benchmark_results.json')).runs;
          for (const sys of ['pcie', 'c2c']) {
            const run = runs[sys]?.[0];
            assert.equal(run?.samples.length, 288, sys);
            assert.ok(run.samples.every((s: { ok: boolean }) => s.ok), `${sys}: no failed request`);
            assert.equal(run.run_meta.engine.build.version, '1.3.0rc26', `${sys}: the version from trtllm-serve's banner`);
            assert.ok(run.log_metrics.onboarded_blocks > 0, `${sys}: blocks reloaded from the host cache`);
          }
          assert.match(await readFile(join(dir.path, 'report.html'), 'utf8'), /<html/);
        }
        if (r.name === 'multiturn') {
          const runs = (await json('benchmark_results.json')).runs;
          for (const sys of ['pcie', 'c2c']) assert.ok(runs[sys]?.[0]?.samples.length === 48 && runs[sys][0].samples.every((s: { ok: boolean }) => s.ok), sys);
          assert.match(out.at(-1)!, /C2C/, 'the report compares the two systems');
        }
        if (r.name === 'capacity') {
          const sweep = await json('sweep.json');
          assert.deepEqual(sweep.points.map((p: any) => p.tier.pcie), ['gpu', 'gpu+host', 'beyond']);
        }
        if (r.name === 'offload') {
          // C2C's onboard TTFT below PCIe's at every length, the ratio's whole interval below 1, 3 replays, nothing flagged.
          const { report } = await json('sweep.json');
          assert.deepEqual(report.points.map((p: any) => p.prompt_tokens), [1024, 16384, 65536]);
          for (const p of report.points) {
            for (const sys of ['pcie', 'c2c']) {
              assert.ok(p.systems[sys].offload_replays.valid >= 3, `${sys} ${p.prompt_tokens}`);
              assert.deepEqual(p.systems[sys].flags, [], `${sys} ${p.prompt_tokens}`);
            }
            const vs = p.vs_baseline.find((v: any) => v.system === 'c2c');
            assert.ok(vs.ci_high < 1, `${p.prompt_tokens}: C2C/PCIe ${vs.ratio} [${vs.ci_low}–${vs.ci_high}]`);
          }
        }
        if (r.name === 'trace') {
          const run = (await json('benchmark_results.json')).runs.pcie[0];
          assert.equal(run.samples.length, 566);
          assert.ok(run.samples.every((s: { ok: boolean }) => s.ok));
          assert.doesNotMatch(out.at(-1)!, /DISAGREE/);
        }
      }),
    );
  } finally {
    await Promise.all(dirs.map((d) => d.cleanup()));
  }
});
