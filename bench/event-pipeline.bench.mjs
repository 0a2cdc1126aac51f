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
    poll: async () => (committed = (await (await fetch(`${base}/health`)).json()).ingest.committed_events),
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
async function measure(durationS) {
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
    const runId = 'bench-run';
    const aggLive = await startAggregator(tk, nats.url, dbPath('live'), 'live');
    const rawLive = await startRawConsumer(tk, nats.url, 'raw-live');
    const pub = await publishFor(jetstream(nc), c, runId, durationS);
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
      const r = db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT request_id) AS d FROM samples WHERE run_id = ?').get(runId);
      db.close();
      return { name, ...r };
    });
    return { ...pub, aggSeconds, rawSeconds, rounds, stored };
  } finally {
    await nc.close();
    await nats.close();
    await dir.cleanup();
  }
}

export async function run() {
  const m = await measure(DURATION_S);
  const aggLive = m.published / m.aggSeconds;
  const rawLive = m.published / m.rawSeconds;
  const aggBacklog = median(m.rounds.map((r) => r.agg));
  const rawBacklog = median(m.rounds.map((r) => r.raw));
  const ratio = median(m.rounds.map((r) => r.agg / r.raw));
  const bad = m.stored.reduce((n, s) => n + (m.published - s.n) + (s.n - s.d), 0);
  const load = (await import('node:os')).loadavg()[0].toFixed(1);
  const rounds = m.rounds.map((r) => `${r.agg.toFixed(0)}/${r.raw.toFixed(0)}`).join(', ');
  return [
    { bench: BENCH, metric: 'publish → aggregator commit, live, sustained', value: +aggLive.toFixed(0), unit: 'samples/s', target: '>= 20000', pass: aggLive >= 20000,
      notes: `${m.published} samples published over ${m.publishSeconds.toFixed(1)} s (the publisher's own ceiling), all committed ${m.aggSeconds.toFixed(1)} s after the first; load average ${load}` },
    { bench: BENCH, metric: 'raw JetStream publish → consume → ack, live, same publisher', value: +rawLive.toFixed(0), unit: 'msgs/s', target: 'reference', pass: true,
      notes: `all consumed ${m.rawSeconds.toFixed(1)} s after the first publish` },
    { bench: BENCH, metric: 'pipeline / raw loop, live', value: +((aggLive / rawLive) * 100).toFixed(1), unit: '%', target: '>= 50', pass: aggLive / rawLive >= 0.5 },
    { bench: BENCH, metric: 'aggregator drain of the stored stream (median)', value: +aggBacklog.toFixed(0), unit: 'samples/s', target: '>= 20000', pass: aggBacklog >= 20000,
      notes: `${ROUNDS} rounds alternating with the raw consumer, aggregator/raw per round: ${rounds}` },
    { bench: BENCH, metric: 'raw consumer drain of the stored stream (median)', value: +rawBacklog.toFixed(0), unit: 'msgs/s', target: 'reference', pass: true },
    { bench: BENCH, metric: 'aggregator samples per CPU second (median)', value: +median(m.rounds.map((r) => r.aggPerCpu)).toFixed(0), unit: 'samples/cpu-s', target: 'informational', pass: true,
      notes: `the aggregator process's own user+system CPU time while draining; raw consumer: ${median(m.rounds.map((r) => r.rawPerCpu)).toFixed(0)} msgs/cpu-s. Less sensitive to machine load than wall time (contention still inflates CPU time)` },
    { bench: BENCH, metric: 'pipeline / raw loop, drain (median of per-round ratios)', value: +(ratio * 100).toFixed(1), unit: '%', target: '>= 50', pass: ratio >= 0.5 },
    { bench: BENCH, metric: 'samples lost or duplicated', value: bad, unit: 'samples', target: '0', pass: bad === 0,
      notes: m.stored.map((s) => `${s.name}: ${s.n} stored, ${s.d} distinct`).join('; ') + `; published ${m.published}` },
  ];
}

const self = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (self && process.argv[2] === '--raw-consumer') {
  await rawConsumerMain(process.argv[3], process.argv[4]);
} else if (self) {
  const rows = await run();
  for (const r of rows) console.log(`${r.pass ? 'PASS' : 'MISS'}  ${r.metric}: ${r.value} ${r.unit} (target ${r.target})${r.notes ? `  — ${r.notes}` : ''}`);
}
