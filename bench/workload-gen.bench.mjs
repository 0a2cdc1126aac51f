// Benchmark 3 (issue 7): workload generation.
// - tokens/s of the generator (exact cl100k_base counts by construction), in process;
// - tokens/s of the naive method in the same run: encode a longer text, keep N tokens, decode;
// - the documented workload of COMMANDS.md through the real CLI in a child process: wall seconds
//   and the child's own peak RSS.
// Run alone: node bench/workload-gen.bench.mjs
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { timedCliRun } from './cli-child.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const BENCH = 'workload generation';
const DOCUMENTED = ['--contexts', '32768', '65536', '131072', '--batches-per-context', '5', '--batch-sizes', '8', '16', '32',
  '--prompt-pool-size', '16', '--reuse-start-batch', '3', '--delay-ms', '0', '--seed', '42'];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function inProcessFigures(wl) {
  const params = { contexts: [32768, 65536, 131072], batches_per_context: 5, batch_sizes: [8, 16, 32], prompt_pool_size: 16, reuse_start_batch: 3, delay_ms: 0, seed: 42 };
  wl.generateWorkload({ ...params, seed: 1 }); // warm-up (JIT, vocabulary tables)
  const rates = [];
  let tokens = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    const doc = wl.generateWorkload({ ...params, seed: 100 + i });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    tokens = doc.prompts.reduce((n, p) => n + p.tokens, 0);
    rates.push(tokens / s);
  }

  // Naive: what a generator without exact-by-construction text must do per prompt.
  const enc = wl.cl100kEncoder();
  const N = 131072;
  const naiveRates = [];
  let naiveExact = 0;
  const naiveRuns = 3;
  for (let i = 0; i < naiveRuns; i++) {
    const source = wl.promptText(7, i, Math.ceil(N * 1.1));
    const t0 = process.hrtime.bigint();
    const text = enc.decode(enc.encode(source).slice(0, N));
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    naiveRates.push(N / s);
    if (enc.encode(text).length === N) naiveExact++;
  }
  return { rate: median(rates), tokens, naive: median(naiveRates), naiveExact, naiveRuns };
}

/** Runs the CLI on the documented workload; its own peak RSS comes from resourceUsage at exit. */
const documentedEndToEnd = (main, out) => timedCliRun(main, ['workload', 'generate', ...DOCUMENTED], out);

export async function run() {
  const wlPath = join(root, 'libs/workload/dist/src/index.js');
  const main = join(root, 'apps/cli/dist/src/main.js');
  for (const p of [wlPath, main]) if (!existsSync(p)) throw new Error(`${p} is missing: build first (pnpm exec tsc -b libs/workload apps/cli)`);
  const wl = await import(pathToFileURL(wlPath).href);

  const f = await inProcessFigures(wl);
  const dir = await mkdtemp(join(tmpdir(), 'kvbench-wlbench-'));
  const e2e = [];
  try {
    for (let i = 0; i < 3; i++) e2e.push(await documentedEndToEnd(main, join(dir, `w${i}.json`)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const seconds = median(e2e.map((r) => r.seconds));
  const rss = Math.max(...e2e.map((r) => r.rssBytes));
  const GiB = 2 ** 30;
  return [
    { bench: BENCH, metric: 'generator throughput, exact counts', value: f.rate / 1e6, unit: 'M tokens/s', target: '≥ 20', pass: f.rate >= 20e6,
      notes: `median of 3 in-process generations of the documented workload (${f.tokens} distinct prompt tokens each)` },
    { bench: BENCH, metric: 'naive encode+trim+decode throughput', value: f.naive / 1e6, unit: 'M tokens/s', target: '', pass: null,
      notes: `js-tiktoken cl100k_base, 131072-token prompts, median of ${f.naiveRuns}; exact after decode in ${f.naiveExact}/${f.naiveRuns}` },
    { bench: BENCH, metric: 'generator / naive', value: f.rate / f.naive, unit: '×', target: '', pass: null },
    { bench: BENCH, metric: 'documented workload end to end (CLI)', value: seconds, unit: 's', target: '< 2', pass: seconds < 2,
      notes: `median of 3 child processes of \`kvbench workload generate\` (node start to exit, file written: ${(e2e[0].bytes / 1e6).toFixed(1)} MB); ${e2e[0].line}` },
    { bench: BENCH, metric: 'documented workload peak RSS', value: rss / GiB, unit: 'GiB', target: '< 1', pass: rss < GiB,
      notes: 'largest of the 3 children, process.resourceUsage().maxRSS at exit' },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    const v = r.value < 10 ? r.value.toFixed(3) : r.value.toFixed(1);
    console.log(`${r.metric}: ${v} ${r.unit}${r.target ? ` (target ${r.target}: ${r.pass ? 'met' : 'MISSED'})` : ''}${r.notes ? `\n    ${r.notes}` : ''}`);
  }
}
