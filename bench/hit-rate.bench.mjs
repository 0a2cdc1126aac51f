// The report's hit-rate predictor (libs/report/src/hit-rate.ts simulateLru) on the documented seed
// workload (COMMANDS.md: 32K–128K, 5 batches of 8/16/32, pool 16, seed 42; 288 requests, 361K block
// lookups at 64 tokens a block), with the pools of a 131136-token GPU pool and a 3276-block host
// cache: the three passes a report makes per system (GPU only, GPU + host, infinite), timed for the
// O(1) list version and, in the same run, for the first Map-order version it replaced
// (libs/report/test/lru-reference.ts). Figure: new / old time, median of 3; their results must match.
// Run alone: node bench/hit-rate.bench.mjs
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCH = 'hit-rate predictor';
const root = new URL('../', import.meta.url);
const lib = (p) => fileURLToPath(new URL(p, root));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const GPU_BLOCKS = 2049;
const HOST_BLOCKS = 3276;

export async function run() {
  const paths = ['libs/report/dist/src/index.js', 'libs/report/dist/test/lru-reference.js', 'libs/workload/dist/src/index.js'].map(lib);
  for (const p of paths) if (!existsSync(p)) throw new Error(`${p} is missing: build first (pnpm exec tsc -b)`);
  const [report, ref, wl] = await Promise.all(paths.map((p) => import(pathToFileURL(p).href)));
  const w = wl.generateWorkload({ contexts: [32768, 65536, 131072], batches_per_context: 5, batch_sizes: [8, 16, 32], prompt_pool_size: 16, reuse_start_batch: 3, delay_ms: 0, seed: 42 });
  const tokens = new Map(w.prompts.map((p) => [p.id, p.tokens]));
  // Samples as a run records them (release order: batch by batch), only the fields the predictor reads.
  const samples = w.batches.flatMap((b, bi) => b.requests.map((r, i) => ({
    request_id: `${bi}-${i}`, batch_index: bi, index_in_batch: i, prompt_id: r.prompt_id, scheduled_at_s: bi,
    prompt_tokens_client: tokens.get(r.prompt_id), completion_tokens_client: 16, completion_tokens_server: 16,
  })));
  const reqs = report.blockRequestsOf(samples, 64);
  const lookups = reqs.reduce((n, r) => n + r.lookups, 0);
  // A fresh list each time, as a report has: the O(1) version interns a list's keys once for its three passes.
  const passes = (lru, list = [...reqs]) => [lru(list, GPU_BLOCKS, 0), lru(list, GPU_BLOCKS, HOST_BLOCKS), lru(list, Number.MAX_SAFE_INTEGER, 0)];
  const time = (lru) => {
    const t0 = process.hrtime.bigint();
    const out = passes(lru);
    return { s: Number(process.hrtime.bigint() - t0) / 1e9, out };
  };
  const news = [];
  const olds = [];
  let same = true;
  for (let i = 0; i < 3; i++) {
    const n = time(report.simulateLru);
    const o = time(ref.simulateLruReference);
    news.push(n.s);
    olds.push(o.s);
    same &&= JSON.stringify(n.out) === JSON.stringify(o.out);
  }
  const ratio = median(news) / median(olds);
  return [
    { bench: BENCH, metric: 'three passes, O(1) lists (keys interned once)', value: median(news), unit: 's', target: '', pass: null, notes: `${reqs.length} requests, ${lookups} block lookups per pass` },
    { bench: BENCH, metric: 'three passes, Map-order reference', value: median(olds), unit: 's', target: '', pass: null },
    { bench: BENCH, metric: 'new / old time', value: ratio, unit: '×', target: '≤ 0.2', pass: ratio <= 0.2 && same, notes: same ? 'identical results' : 'RESULTS DIFFER' },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.table(await run());
