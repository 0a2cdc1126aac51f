// Benchmark 2 (issue 7): the event pipeline.
// Samples per second from publish (as the host agent does it: JetStream publish with a msgID,
// awaiting the stream's ack) to the aggregator's SQLite commit, sustained for DURATION seconds,
// beside a raw JetStream publish→consume→ack loop with the same client (nats.js) in the same run.
// Both consumers run as child processes (the aggregator is its compiled server.js), the publisher
// in this process, each phase on a fresh nats-server. None lost: every published sample must be
// in SQLite exactly once at the end.
// Run alone: node bench/event-pipeline.bench.mjs [--quick]   (BENCH_QUICK=1 also: 10 s instead of 60 s)
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const BENCH = 'event pipeline';
const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? (quick ? 10 : 60));
const IN_FLIGHT = 2000;

const aggRequire = createRequire(join(root, 'services/aggregator/package.json'));
const load = (spec) => import(pathToFileURL(aggRequire.resolve(spec)).href);
const testkit = () => import(pathToFileURL(join(root, 'libs/testkit/dist/src/index.js')).href);
const common = () => import(pathToFileURL(join(root, 'libs/common/dist/src/index.js')).href);
const aggregator = () => import(pathToFileURL(join(root, 'services/aggregator/dist/src/index.js')).href);

function sampleEvent(runId, i, envelope) {
  return {
    ...envelope,
    type: 'sample',
    sample: {
      request_id: `r${i}`, batch_index: Math.floor(i / 32), index_in_batch: i % 32, prompt_id: `p${i % 16}`,
      context_tokens: 32768, phase: i % 10 < 7 ? 'reuse' : 'cold', scheduled_at_s: i * 0.001,
      ttft_s: 0.05 + (i % 100) * 0.001, latency_s: 0.2 + (i % 100) * 0.001, itl_s: [0.01, 0.011, 0.012],
      prompt_tokens_client: 32768, prompt_tokens_server: 32768, completion_tokens_client: 16, completion_tokens_server: 16,
      cached_tokens: 30000, ok: true, error: null, server: null,
    },
  };
}

/**
 * Publish sample events for `durationS` seconds as fast as the stream acks them, IN_FLIGHT at a time.
 * Returns how many were published and when the first was sent.
 */
async function publishFor(js, c, runId, durationS) {
  const envelope = { schema: 'kvbench.event', version: 1, run_id: runId, attempt: 1, system_label: 'bench', at: new Date().toISOString() };
  const subject = c.eventSubject(runId, 'sample');
  const t0 = performance.now();
  const deadline = t0 + durationS * 1000;
  let n = 0;
  const inflight = new Set();
  while (performance.now() < deadline) {
    const i = n++;
    const p = js.publish(subject, JSON.stringify(sampleEvent(runId, i, envelope)), { msgID: `${runId}.1.sample.r${i}` });
    inflight.add(p);
    p.finally(() => inflight.delete(p));
    if (inflight.size >= IN_FLIGHT) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const published = n;
  return { published, t0, publishSeconds: (performance.now() - t0) / 1000 };
}

function spawnChild(args, env) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out = (out + d).slice(-20000)));
  child.stderr.on('data', (d) => (out = (out + d).slice(-20000)));
  const exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve(sig ?? code)));
  return { child, output: () => out, exited };
}

/** Child process mode: consume the events stream and ack every message; report the count on stdout. */
async function rawConsumerMain(url, name) {
  const { connect } = await load('@nats-io/transport-node');
  const { jetstream, jetstreamManager, AckPolicy } = await load('@nats-io/jetstream');
  const c = await common();
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  // The aggregator's consumer settings, so the two loops differ only in what happens per message.
  await jsm.consumers.add(c.EVENTS_STREAM, { durable_name: name, ack_policy: AckPolicy.Explicit, filter_subject: 'kvbench.runs.>', max_ack_pending: 10_000 });
  const consumer = await jetstream(nc).consumers.get(c.EVENTS_STREAM, name);
  let count = 0;
  await consumer.consume({ max_messages: 2000, callback: (m) => { JSON.parse(m.string()); m.ack(); count++; } });
  setInterval(() => process.stdout.write(`count=${count}\n`), 20);
  process.stdout.write('ready\n');
}

const lastCount = (out) => Number(/count=(\d+)\n(?![\s\S]*count=)/.exec(out)?.[1] ?? 0);

/** The raw loop: a consumer child that only parses and acks. */
async function startRawConsumer(tk, url, name) {
  const child = spawnChild([fileURLToPath(import.meta.url), '--raw-consumer', url, name], {});
  await tk.waitFor(() => child.output().includes('ready'), { timeoutMs: 20_000, what: 'raw consumer ready' });
  return { done: () => lastCount(child.output()), stop: async () => { child.child.kill('SIGTERM'); await child.exited; } };
}

/** The pipeline: the aggregator's compiled server.js with its own database and consumer. */
async function startAggregator(tk, url, dbPath, consumer) {
  const port = await tk.freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawnChild([join(root, 'services/aggregator/dist/src/server.js')], {
    NATS_URL: url, DB_PATH: dbPath, PORT: String(port), LOG_LEVEL: 'warn', INGEST_CONSUMER: consumer,
  });
  await tk.waitFor(() => fetch(`${base}/health`).then((r) => r.ok, () => false), { timeoutMs: 20_000, what: 'aggregator up' });
  let committed = 0;
  return {
    // Polled over HTTP: committed_events counts events committed and acked.
    poll: async () => (committed = (await (await fetch(`${base}/health`)).json()).ingest.committed_events),
    done: () => committed,
    stop: async () => { child.child.kill('SIGTERM'); return child.exited; },
  };
}

/**
 * One path measured two ways on a fresh nats-server:
 * live — the publisher and the consumer run together for DURATION seconds; rate = published / (first publish → last commit);
 * backlog — a second consumer (own name, own database) drains the same stored events; rate = events / drain time.
 */
async function measure(kind, durationS) {
  const tk = await testkit();
  const c = await common();
  const { connect } = await load('@nats-io/transport-node');
  const { jetstream } = await load('@nats-io/jetstream');
  const nats = await tk.startNatsServer();
  const dir = await tk.tempDir('kvbench-bench-pipeline-');
  const nc = await connect({ servers: nats.url });
  const start = (name) =>
    kind === 'raw' ? startRawConsumer(tk, nats.url, name) : startAggregator(tk, nats.url, join(dir.path, `${name}.sqlite`), name);
  const caughtUp = (consumer, n, what) =>
    tk.waitFor(async () => { await consumer.poll?.(); return consumer.done() >= n; }, { timeoutMs: 600_000, intervalMs: 10, what });
  try {
    await c.setupBus(nc);
    const runId = `bench-${kind}-run`;
    const live = await start('live');
    const pub = await publishFor(jetstream(nc), c, runId, durationS);
    await caughtUp(live, pub.published, `${kind} live consumer caught up`);
    const liveSeconds = (performance.now() - pub.t0) / 1000;
    await live.stop();

    // Drain rate from the first commit seen to the last, so process start does not count.
    const backlog = await start('backlog');
    let first = null;
    await tk.waitFor(async () => {
      await backlog.poll?.();
      const n = backlog.done();
      if (first === null && n > 0) first = { n, t: performance.now() };
      return n >= pub.published;
    }, { timeoutMs: 600_000, intervalMs: 5, what: `${kind} backlog drained` });
    const backlogSeconds = (performance.now() - first.t) / 1000;
    const backlogEvents = pub.published - first.n;
    await backlog.stop();

    let stored = null;
    if (kind === 'pipeline') {
      // None lost, none twice: count what each SQLite database holds.
      const agg = await aggregator();
      stored = ['live', 'backlog'].map((name) => {
        const db = agg.openDatabase(join(dir.path, `${name}.sqlite`), { readonly: true });
        const r = db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS d FROM samples WHERE run_id = ?').get(runId);
        db.close();
        return r;
      });
    }
    return {
      ...pub,
      liveSeconds,
      liveRate: pub.published / liveSeconds,
      backlogSeconds,
      backlogEvents,
      backlogRate: backlogEvents / backlogSeconds,
      stored,
    };
  } finally {
    await nc.close();
    await nats.close();
    await dir.cleanup();
  }
}

export async function run() {
  const raw = await measure('raw', DURATION_S);
  const pipe = await measure('pipeline', DURATION_S);
  const liveRatio = pipe.liveRate / raw.liveRate;
  const backlogRatio = pipe.backlogRate / raw.backlogRate;
  const bad = pipe.stored.reduce((n, s) => n + (pipe.published - s.n) + (s.n - s.d), 0);
  const load = (await import('node:os')).loadavg()[0].toFixed(1);
  return [
    { bench: BENCH, metric: 'publish → aggregator commit, live, sustained', value: +pipe.liveRate.toFixed(0), unit: 'samples/s', target: '>= 20000', pass: pipe.liveRate >= 20000,
      notes: `${pipe.published} samples published over ${pipe.publishSeconds.toFixed(1)} s, all committed ${pipe.liveSeconds.toFixed(1)} s after the first; load average ${load}` },
    { bench: BENCH, metric: 'raw JetStream publish → consume → ack, live', value: +raw.liveRate.toFixed(0), unit: 'msgs/s', target: 'reference', pass: true,
      notes: `${raw.published} published over ${raw.publishSeconds.toFixed(1)} s, all consumed ${raw.liveSeconds.toFixed(1)} s after the first` },
    { bench: BENCH, metric: 'pipeline / raw loop, live', value: +(liveRatio * 100).toFixed(1), unit: '%', target: '>= 50', pass: liveRatio >= 0.5 },
    { bench: BENCH, metric: 'aggregator drain of a stored backlog', value: +pipe.backlogRate.toFixed(0), unit: 'samples/s', target: '>= 20000', pass: pipe.backlogRate >= 20000,
      notes: `${pipe.backlogEvents} samples in ${pipe.backlogSeconds.toFixed(2)} s, timed from the first commit seen` },
    { bench: BENCH, metric: 'raw consumer drain of a stored backlog', value: +raw.backlogRate.toFixed(0), unit: 'msgs/s', target: 'reference', pass: true,
      notes: `${raw.backlogEvents} messages in ${raw.backlogSeconds.toFixed(2)} s, timed from the first ack seen` },
    { bench: BENCH, metric: 'pipeline / raw loop, backlog', value: +(backlogRatio * 100).toFixed(1), unit: '%', target: '>= 50', pass: backlogRatio >= 0.5 },
    { bench: BENCH, metric: 'samples lost or duplicated', value: bad, unit: 'samples', target: '0', pass: bad === 0,
      notes: pipe.stored.map((s, i) => `${i ? 'backlog' : 'live'}: stored ${s.n}, distinct ${s.d}`).join('; ') + `; published ${pipe.published}` },
  ];
}

const self = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (self && process.argv[2] === '--raw-consumer') {
  await rawConsumerMain(process.argv[3], process.argv[4]);
} else if (self) {
  const rows = await run();
  for (const r of rows) console.log(`${r.pass ? 'PASS' : 'MISS'}  ${r.metric}: ${r.value} ${r.unit} (target ${r.target})${r.notes ? `  — ${r.notes}` : ''}`);
}
