// Benchmark 4 (issue 7): reports over 1,000,000 stored samples.
// Samples go into SQLite through the aggregator's own store code (createEventWriter, the path
// ingest uses): 2 system labels × 1,563 workloads × 320 samples (the size of a run of the
// documented workload: 3 contexts × 5 batches of 8-32 requests), each run completed: 1,000,320
// stored samples. Then the aggregator app (ingest on, its own nats-server) answers over real HTTP:
//   /results?summary=true  — target p50 < 200 ms
//   /compare               — target p50 < 200 ms, on workloads never compared before (the bootstrap
//                            runs every time), and again on one already compared (served from the
//                            cache of completed comparisons)
// BENCH_SAMPLES_PER_RUN=100000 BENCH_WORKLOADS=5 gives the same total in five huge runs instead.
// Run alone: node bench/reports.bench.mjs [--quick]   (BENCH_QUICK=1: fewer timed requests, same data size)
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const BENCH = 'reports';
const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const LABELS = ['pcie', 'c2c'];
const PER_RUN = Number(process.env.BENCH_SAMPLES_PER_RUN ?? 320);
const WORKLOADS = Number(process.env.BENCH_WORKLOADS ?? Math.ceil(1_000_000 / (2 * PER_RUN)));
const REQUESTS = quick ? 10 : 30;
const CONTEXTS = [32768, 65536, 131072];

const testkit = () => import(pathToFileURL(join(root, 'libs/testkit/dist/src/index.js')).href);
// @kvbench/common's contracts with @kvbench/bus's names and setup, as one module object.
const common = async () => ({
  ...(await import(pathToFileURL(join(root, 'libs/common/dist/src/index.js')).href)),
  ...(await import(pathToFileURL(join(root, 'libs/bus/dist/src/index.js')).href)),
});
const aggregator = () => import(pathToFileURL(join(root, 'services/aggregator/dist/src/index.js')).href);

/** Deterministic pseudo-random numbers (mulberry32), so every run stores the same data. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function runEvents(c, label, w) {
  const runId = `bench-${label}-w${w}`;
  const workloadId = `wl-bench-${w}`;
  const env = { schema: 'kvbench.event', version: 1, run_id: runId, attempt: 1, system_label: label, at: '2026-01-01T00:00:00.000Z' };
  const runMeta = { run_id: runId, attempt: 1, system_label: label, model: 'bench-model', workload_id: workloadId, simulated: true, percentile_method: c.PERCENTILE_METHOD };
  const logMetrics = { cache_hit_rate: 0.7, reused_blocks: 1000, offloaded_blocks: 500, observed_offload_bandwidth_gbps: label === 'c2c' ? 300 : 50, sources: {}, null_reasons: {} };
  const speed = label === 'c2c' ? 0.4 : 1;
  const rand = rng(w * 7919 + 1);
  function* samples() {
    for (let i = 0; i < PER_RUN; i++) {
      const ctx = CONTEXTS[i % 3];
      const reuse = i >= 96 && rand() < 0.7;
      const ttft = (reuse ? 0.02 : 0.2) * (ctx / 32768) * (reuse ? speed : 1) * (0.8 + 0.4 * rand());
      yield {
        ...env, type: 'sample',
        sample: {
          request_id: `w${w}-r${i}`, batch_index: Math.floor(i / 32), index_in_batch: i % 32, prompt_id: `p${i % 16}`,
          context_tokens: ctx, phase: reuse ? 'reuse' : 'cold', scheduled_at_s: i * 0.01, ttft_s: ttft, latency_s: ttft + 0.1,
          itl_s: [0.006, 0.006], prompt_tokens_client: ctx, prompt_tokens_server: ctx, completion_tokens_client: 16,
          completion_tokens_server: 16, cached_tokens: reuse ? ctx - 64 : 0, ok: true, error: null, server: null,
        },
      };
    }
  }
  return {
    head: [{ ...env, type: 'started', expected_samples: PER_RUN, run_meta: runMeta }],
    samples,
    tail: [{ ...env, type: 'completed', sample_count: PER_RUN, window_s: PER_RUN * 0.01, run_meta: runMeta, log_metrics: logMetrics }],
  };
}

async function fill(agg, c, db) {
  const writer = agg.createEventWriter(db);
  const t0 = performance.now();
  let n = 0;
  for (let w = 0; w < WORKLOADS; w++) {
    for (const label of LABELS) {
      const r = runEvents(c, label, w);
      writer.write(r.head);
      let chunk = [];
      for (const e of r.samples()) {
        chunk.push(e);
        if (chunk.length === 5000) (writer.write(chunk), (n += chunk.length), (chunk = []));
      }
      if (chunk.length) (writer.write(chunk), (n += chunk.length));
      writer.write(r.tail);
    }
  }
  return { stored: n, seconds: (performance.now() - t0) / 1000 };
}

async function timeRequests(url, count, headers = {}) {
  const ms = [];
  let bytes = 0;
  let status = 0;
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const r = await fetch(url, { headers });
    const body = await r.arrayBuffer();
    ms.push(performance.now() - t0);
    bytes = body.byteLength;
    status = r.status;
  }
  ms.sort((a, b) => a - b);
  const pct = (p) => ms[Math.min(ms.length - 1, Math.round((ms.length - 1) * p))];
  return { p50: pct(0.5), p95: pct(0.95), bytes, status };
}

export async function run() {
  const tk = await testkit();
  const c = await common();
  const agg = await aggregator();
  const nats = await tk.startNatsServer();
  const dir = await tk.tempDir('kvbench-bench-reports-');
  const db = agg.openDatabase(join(dir.path, 'reports.sqlite'));
  let app;
  try {
    const filled = await fill(agg, c, db);
    const config = agg.loadAggregatorConfig({ NATS_URL: nats.url, DB_PATH: join(dir.path, 'unused.sqlite'), LOG_LEVEL: 'warn' });
    app = await agg.buildApp(config, { db, logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${app.server.address().port}`;

    const summary = await timeRequests(`${base}/results?summary=true`, REQUESTS);
    const summaryDoc = await (await fetch(`${base}/results?summary=true`)).json();
    const runsInSummary = Object.values(summaryDoc.runs).reduce((n, rs) => n + rs.length, 0);
    const oneRun = await timeRequests(`${base}/results?run_id=bench-pcie-w0`, quick ? 2 : 5);
    const rows = [
      { bench: BENCH, metric: 'stored samples', value: filled.stored, unit: 'samples', target: '1000000', pass: filled.stored >= 1_000_000,
        notes: `written through createEventWriter in ${filled.seconds.toFixed(1)} s (${(filled.stored / filled.seconds).toFixed(0)} samples/s, batches of 5000)` },
      { bench: BENCH, metric: '/results?summary=true p50', value: +summary.p50.toFixed(1), unit: 'ms', target: '< 200', pass: summary.p50 < 200 && summary.status === 200 && runsInSummary === 2 * WORKLOADS,
        notes: `p95 ${summary.p95.toFixed(1)} ms over ${REQUESTS} requests, ${runsInSummary} runs, ${summary.bytes} bytes` },
      { bench: BENCH, metric: `/results?run_id (one run, ${PER_RUN} samples, streamed) p50`, value: +oneRun.p50.toFixed(0), unit: 'ms', target: 'informational', pass: oneRun.status === 200,
        notes: `${(oneRun.bytes / 2 ** 20).toFixed(1)} MiB` },
    ];
    // Cold: each request names a workload not compared before, so the bootstrap runs every time.
    const n = quick ? 5 : 15;
    const cold = [];
    let status = 0;
    for (let i = 0; i < n; i++) {
      const r = await timeRequests(`${base}/compare?workload_id=wl-bench-${i + 1}`, 1);
      cold.push(r.p50);
      status = r.status;
    }
    cold.sort((a, b) => a - b);
    const warm = await timeRequests(`${base}/compare?workload_id=wl-bench-1`, n);
    rows.push(
      { bench: BENCH, metric: `/compare p50, first comparison of a workload (2 × ${PER_RUN} paired samples, 2000 resamples)`, value: +cold[Math.floor((n - 1) / 2)].toFixed(1), unit: 'ms', target: '< 200',
        pass: cold[Math.floor((n - 1) / 2)] < 200 && status === 200, notes: `max ${cold[n - 1].toFixed(1)} ms over ${n} workloads` },
      { bench: BENCH, metric: '/compare p50, repeated (cached comparison)', value: +warm.p50.toFixed(1), unit: 'ms', target: '< 200', pass: warm.p50 < 200 && warm.status === 200,
        notes: `p95 ${warm.p95.toFixed(1)} ms over ${n} requests` },
    );
    return rows;
  } finally {
    await app?.close();
    db.close();
    await nats.close();
    await dir.cleanup();
  }
}

const self = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (self) {
  const rows = await run();
  for (const r of rows) console.log(`${r.pass ? 'PASS' : 'MISS'}  ${r.metric}: ${r.value} ${r.unit} (target ${r.target})${r.notes ? `  — ${r.notes}` : ''}`);
}
