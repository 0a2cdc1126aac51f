// Benchmark 2 (issue 7): the event pipeline.
// Samples per second from publish (as the host agent does it: JetStream publish with a msgID,
// awaiting the stream's ack) to the aggregator's SQLite commit, sustained for DURATION seconds,
// beside a raw JetStream publish→consume→ack loop with the same client (nats.js) in the same run.
// The aggregator (its compiled server.js) and the raw consumer run as child processes, the
// publisher in this process. Live: both consume the same publisher at once. Drain: the stored
// stream is consumed again by fresh consumers, raw and aggregator alternating, which measures
// each consumer's own capacity when the publisher is the slower part. None lost: every
// published sample is in each SQLite database exactly once at the end.
// Run alone: node bench/event-pipeline.bench.mjs [--quick]   (BENCH_QUICK=1 also: 10 s instead of 60 s)
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const BENCH = 'event pipeline';
const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? (quick ? 10 : 60));
const IN_FLIGHT = 2000;
const ROUNDS = 3;

const aggRequire = createRequire(join(root, 'services/aggregator/package.json'));
const load = (spec) => import(pathToFileURL(aggRequire.resolve(spec)).href);
const testkit = () => import(pathToFileURL(join(root, 'libs/testkit/dist/src/index.js')).href);
// @kvbench/common's contracts with @kvbench/bus's names and setup, as one module object.
const common = async () => ({
  ...(await import(pathToFileURL(join(root, 'libs/common/dist/src/index.js')).href)),
  ...(await import(pathToFileURL(join(root, 'libs/bus/dist/src/index.js')).href)),
});
const aggregator = () => import(pathToFileURL(join(root, 'services/aggregator/dist/src/index.js')).href);

// The aggregator stores a sample only for a request of its run's workload (issue 25: read from the
// workloads object store, the run's workload from its accepted event). So the samples are those of real
// runs: one workload of PER_RUN requests, stored as workload-api stores it, and a run of it every
// PER_RUN samples, each opened by its accepted event, as an agent's would be. Samples published for a
// run nobody submitted are rejected (and would leave the bench waiting for them).
const PER_RUN = 10_000;
const WORKLOAD_ID = 'wl-bench-pipeline';
const RUN_PREFIX = 'bench-run-';

/** Sample j of a run: testkit's successful sample with this bench's shape (32K contexts, 70% reuse). */
function sample(tk, j) {
  return tk.successfulSample({
    request_id: `r${j}`, batch_index: Math.floor(j / 32), index_in_batch: j % 32, prompt_id: `p${j % 16}`,
    context_tokens: 32768, phase: j % 10 < 7 ? 'reuse' : 'cold', scheduled_at_s: j * 0.001,
    ttft_s: 0.05 + (j % 100) * 0.001, latency_s: 0.2 + (j % 100) * 0.001, itl_s: [0.01, 0.011, 0.012],
    cached_tokens: 30000,
  });
}

/** The workload's native document: the PER_RUN requests the samples are of, their 16 prompts. */
function workloadDocument(tk) {
  const requests = Array.from({ length: PER_RUN }, (_, j) => sample(tk, j));
  return {
    schema: 'kvbench.workload', version: 1, tokenizer: 'cl100k_base', params: null,
    prompts: Array.from({ length: 16 }, (_, k) => ({ id: `p${k}`, context_tokens: 32768, tokens: 1, text: 'x' })),
    batches: [{ index: 0, context_tokens: 32768, delay_ms: 0, requests: requests.map((r) => ({ request_id: r.request_id, prompt_id: r.prompt_id, phase: r.phase })) }],
  };
}

/**
 * Publish sample events for `durationS` seconds as fast as the stream acks them, IN_FLIGHT at a time,
 * each run's accepted event before its samples (with the agent's message ids). Returns how many
 * events (samples and accepted) and samples were published, and when the first was sent.
 */
async function publishFor(js, c, tk, durationS) {
  const t0 = performance.now();
  const deadline = t0 + durationS * 1000;
  let samples = 0;
  let events = 0;
  const inflight = new Set();
  const send = (e) => {
    const p = js.publish(c.eventSubject(e.run_id, e.type), JSON.stringify(e), { msgID: c.eventMessageId(e) });
    events++;
    inflight.add(p);
    p.finally(() => inflight.delete(p));
  };
  while (performance.now() < deadline) {
    const i = samples++;
    const j = i % PER_RUN;
    const source = { run_id: `${RUN_PREFIX}${Math.floor(i / PER_RUN)}`, attempt: 1, system_label: 'bench' };
    if (j === 0) send(c.runEvent('accepted', source, { job: tk.testJob({ run_id: source.run_id, workload_id: WORKLOAD_ID, system_label: 'bench' }) }));
    send(c.runEvent('sample', source, { sample: sample(tk, j) }));
    if (inflight.size >= IN_FLIGHT) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  return { published: events, samples, runs: Math.ceil(samples / PER_RUN), t0, publishSeconds: (performance.now() - t0) / 1000 };
}

/** Children still running: a bench that fails midway kills them (they outlived the crash once). */
const children = new Set();

async function killChildren() {
  await Promise.all([...children].map((child) => new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGKILL');
  })));
}

function spawnChild(args, env) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
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
  return { pid: child.child.pid, done: () => lastCount(child.output()), stop: async () => { child.child.kill('SIGTERM'); await child.exited; } };
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
    pid: child.child.pid,
    // Polled over HTTP: committed_events counts events committed and acked.
    poll: async () => {
      const { ingest } = await (await fetch(`${base}/health`)).json();
      // A rejected sample never commits: say why now instead of waiting out the deadline.
      if (ingest.rejected_samples > 0) throw new Error(`the aggregator rejected ${ingest.rejected_samples} samples: ${child.output().slice(-2000)}`);
      committed = ingest.committed_events;
    },
    done: () => committed,
    stop: async () => { child.child.kill('SIGTERM'); return child.exited; },
  };
}

/**
 * CPU seconds (user + system) a process has used, from /proc (Linux): events per CPU second says
 * what one free core would sustain, much less affected by other load than wall time is.
 */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** Wait until `consumer` has done `n`; seconds and CPU seconds from the first progress seen to the end, and how many that covers. */
async function drain(tk, consumer, n, what) {
  let first = null;
  await tk.waitFor(async () => {
    await consumer.poll?.();
    const done = consumer.done();
    if (first === null && done > 0) first = { n: done, t: performance.now(), cpu: cpuSeconds(consumer.pid) };
    return done >= n;
  }, { timeoutMs: 600_000, intervalMs: 5, what });
  return { seconds: (performance.now() - first.t) / 1000, cpu: cpuSeconds(consumer.pid) - first.cpu, events: n - first.n };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * On one nats-server:
 * live — the publisher, the aggregator and the raw consumer run together for DURATION seconds
 *   (two durable consumers on the same stream, so both see the same publisher under the same load);
 *   rate = published / (first publish → that consumer's last commit or ack).
 * backlog — the stored events drained again by fresh consumers, raw and aggregator alternating
 *   (ROUNDS each), so a change in machine load hits both; rate from the first progress seen.
 */
export async function measure(durationS) {
  const tk = await testkit();
  const c = await common();
  const { connect } = await load('@nats-io/transport-node');
  const { jetstream } = await load('@nats-io/jetstream');
  const nats = await tk.startNatsServer();
  const dir = await tk.tempDir('kvbench-bench-pipeline-');
  const nc = await connect({ servers: nats.url });
  const dbPath = (name) => join(dir.path, `${name}.sqlite`);
  try {
    await c.setupBus(nc);
    const { Objm } = await load('@nats-io/obj');
    const store = await new Objm(nc).create(c.WORKLOADS_BUCKET);
    await store.putBlob({ name: WORKLOAD_ID }, new TextEncoder().encode(JSON.stringify(workloadDocument(tk))));
    const aggLive = await startAggregator(tk, nats.url, dbPath('live'), 'live');
    const rawLive = await startRawConsumer(tk, nats.url, 'raw-live');
    const pub = await publishFor(jetstream(nc), c, tk, durationS);
    const caughtUp = async (consumer) => {
      await tk.waitFor(async () => { await consumer.poll?.(); return consumer.done() >= pub.published; }, { timeoutMs: 600_000, intervalMs: 10, what: 'caught up' });
      return (performance.now() - pub.t0) / 1000;
    };
    const [aggSeconds, rawSeconds] = await Promise.all([caughtUp(aggLive), caughtUp(rawLive)]);
    await Promise.all([aggLive.stop(), rawLive.stop()]);

    const rounds = [];
    for (let i = 0; i < ROUNDS; i++) {
      const raw = await startRawConsumer(tk, nats.url, `raw-backlog-${i}`);
      const r = await drain(tk, raw, pub.published, 'raw backlog drained');
      await raw.stop();
      const agg = await startAggregator(tk, nats.url, dbPath(`backlog-${i}`), `backlog-${i}`);
      const a = await drain(tk, agg, pub.published, 'aggregator backlog drained');
      await agg.stop();
      rounds.push({ raw: r.events / r.seconds, agg: a.events / a.seconds, rawPerCpu: r.events / r.cpu, aggPerCpu: a.events / a.cpu });
    }

    // None lost, none twice: count what each SQLite database holds.
    const aggMod = await aggregator();
    const stored = ['live', ...rounds.map((_, i) => `backlog-${i}`)].map((name) => {
      const db = aggMod.openDatabase(dbPath(name), { readonly: true });
      const r = db.prepare("SELECT COUNT(*) AS n, COUNT(DISTINCT run_id || ' ' || request_id) AS d FROM samples WHERE run_id LIKE ?").get(`${RUN_PREFIX}%`);
      db.close();
      return { name, ...r };
    });
    return { ...pub, aggSeconds, rawSeconds, rounds, stored };
  } finally {
    await killChildren();
    await nc.close();
    await nats.close();
    await dir.cleanup();
  }
}

export async function run() {
  return rows(await measure(DURATION_S));
}

/** The bench's rows from one measurement. */
export async function rows(m) {
  const aggLive = m.samples / m.aggSeconds;
  const rawLive = m.published / m.rawSeconds;
  // Both consumers took the same events (samples and one accepted per run): the ratio is of their times.
  const liveRatio = m.rawSeconds / m.aggSeconds;
  const aggBacklog = median(m.rounds.map((r) => r.agg));
  const rawBacklog = median(m.rounds.map((r) => r.raw));
  const ratio = median(m.rounds.map((r) => r.agg / r.raw));
  const bad = m.stored.reduce((n, s) => n + (m.samples - s.n) + (s.n - s.d), 0);
  const load = (await import('node:os')).loadavg()[0].toFixed(1);
  const rounds = m.rounds.map((r) => `${r.agg.toFixed(0)}/${r.raw.toFixed(0)}`).join(', ');
  return [
    { bench: BENCH, metric: 'publish → aggregator commit, live, sustained', value: +aggLive.toFixed(0), unit: 'samples/s', target: '>= 20000', pass: aggLive >= 20000,
      notes: `${m.samples} samples of ${m.runs} runs of ${PER_RUN} requests (each with its accepted event first) published over ${m.publishSeconds.toFixed(1)} s (the publisher's own ceiling), all committed ${m.aggSeconds.toFixed(1)} s after the first; load average ${load}` },
    { bench: BENCH, metric: 'raw JetStream publish → consume → ack, live, same publisher', value: +rawLive.toFixed(0), unit: 'msgs/s', target: 'reference', pass: true,
      notes: `all consumed ${m.rawSeconds.toFixed(1)} s after the first publish` },
    { bench: BENCH, metric: 'pipeline / raw loop, live', value: +(liveRatio * 100).toFixed(1), unit: '%', target: '>= 50', pass: liveRatio >= 0.5 },
    { bench: BENCH, metric: 'aggregator drain of the stored stream (median)', value: +aggBacklog.toFixed(0), unit: 'samples/s', target: '>= 20000', pass: aggBacklog >= 20000,
      notes: `${ROUNDS} rounds alternating with the raw consumer, aggregator/raw per round: ${rounds}` },
    { bench: BENCH, metric: 'raw consumer drain of the stored stream (median)', value: +rawBacklog.toFixed(0), unit: 'msgs/s', target: 'reference', pass: true },
    { bench: BENCH, metric: 'aggregator samples per CPU second (median)', value: +median(m.rounds.map((r) => r.aggPerCpu)).toFixed(0), unit: 'samples/cpu-s', target: 'informational', pass: true,
      notes: `the aggregator process's own user+system CPU time while draining; raw consumer: ${median(m.rounds.map((r) => r.rawPerCpu)).toFixed(0)} msgs/cpu-s. Less sensitive to machine load than wall time (contention still inflates CPU time)` },
    { bench: BENCH, metric: 'pipeline / raw loop, drain (median of per-round ratios)', value: +(ratio * 100).toFixed(1), unit: '%', target: '>= 50', pass: ratio >= 0.5 },
    { bench: BENCH, metric: 'samples lost or duplicated', value: bad, unit: 'samples', target: '0', pass: bad === 0,
      notes: m.stored.map((s) => `${s.name}: ${s.n} stored, ${s.d} distinct`).join('; ') + `; published ${m.samples}` },
  ];
}

const self = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (self && process.argv[2] === '--raw-consumer') {
  await rawConsumerMain(process.argv[3], process.argv[4]);
} else if (self) {
  const rows = await run();
  for (const r of rows) console.log(`${r.pass ? 'PASS' : 'MISS'}  ${r.metric}: ${r.value} ${r.unit} (target ${r.target})${r.notes ? `  — ${r.notes}` : ''}`);
}
