// Load, against the aggregator process: ten runs' events ingested concurrently
// (published as agents do) while /results, /compare and live SSE streams are
// read over real HTTP. Checks: no errors, no lost or duplicated sample anywhere,
// resident memory bounded (read from /proc, reported as a diagnostic).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunEvent } from '@kvbench/common';
import { AGGREGATOR_CONSUMER, EVENTS_STREAM, eventSubject } from '@kvbench/bus';
import { waitFor } from '@kvbench/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { startHarness, type Harness } from './harness.js';
import { runFixture, type RunFixture } from './fixtures.js';
import { spawnAggregator, type AggregatorProcess } from './child-process.js';
import { readSse, type SseEvent } from './sse-client.js';

const WORKLOADS = 5;
const LABELS = ['pcie', 'c2c'] as const;
const SAMPLES_PER_RUN = 2000;
/** Publishes in flight per run: a run's requests finish concurrently on an agent too. */
const IN_FLIGHT_PER_RUN = 50;
const RSS_LIMIT_MIB = 600;

let h: Harness;
let agg: AggregatorProcess | undefined;

before(async () => {
  h = await startHarness();
});
after(async () => {
  await agg?.kill('SIGTERM');
  await h.close();
});

/** The host agent's msgID convention (services/host-agent/src/publisher.ts). */
function agentMsgId(e: RunEvent): string {
  const base = `${e.run_id}.${e.attempt}.${e.type}`;
  if (e.type === 'sample') return `${base}.${e.sample.request_id}`;
  if (e.type === 'engine_stats') return e.final ? `${base}.final` : `${base}.1`;
  return base;
}

/** A run of workload `w` on `label`: two context sizes, c2c a little faster, so /compare has real rows. */
function loadRun(w: number, label: (typeof LABELS)[number]): RunFixture {
  const r = runFixture({ runId: `loadp-w${w}-${label}`, label, samples: SAMPLES_PER_RUN, workloadId: `wl-loadp-${w}` });
  const speed = label === 'c2c' ? 0.8 : 1;
  r.samples = r.samples.map((e, i) => {
    if (e.type !== 'sample') throw new Error('fixture');
    const ttft = e.sample.ttft_s! * speed;
    return { ...e, sample: { ...e.sample, context_tokens: i % 2 === 0 ? 1024 : 8192, ttft_s: ttft, latency_s: ttft + 1 } };
  });
  r.all = [r.accepted, r.started, ...r.samples, r.engineStats, r.completed];
  // Everything published is what an agent may publish: schema-valid events.
  for (const e of r.all) RunEvent.parse(e);
  return r;
}

function rssOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') * 1024, hwm: kib('VmHWM') * 1024 };
}
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
/** CPU seconds (user + system) a process has used so far. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

test('aggregator process: ten runs ingested concurrently while /results, /compare and SSE are read: no errors, no lost or duplicated sample, memory bounded', { timeout: 180_000 }, async (t) => {
  const runs = Array.from({ length: WORKLOADS }, (_, w) => LABELS.map((l) => loadRun(w, l))).flat();
  const expectedIds = (r: RunFixture) => r.samples.map((e) => (e.type === 'sample' ? e.sample.request_id : '')).sort();

  agg = await spawnAggregator({ NATS_URL: h.nats.url, DB_PATH: join(h.dir, 'load.sqlite'), LOG_LEVEL: 'warn' });
  const base = agg.url;
  const pid = agg.proc.pid!;

  // Memory: the process's resident set every 50 ms, and the kernel's high-water mark at the end.
  let peakSampled = 0;
  let rssSamples = 0;
  const startRss = rssOf(pid).rss;
  const sampler = setInterval(() => {
    try {
      peakSampled = Math.max(peakSampled, rssOf(pid).rss);
      rssSamples++;
    } catch {
      /* exited: the assertions below will say so */
    }
  }, 50);

  const errors: string[] = [];
  let duplicatesAcked = 0;
  const publish = async (e: RunEvent) => {
    const ack = await h.js.publish(eventSubject(e.run_id, e.type), JSON.stringify(e), { msgID: agentMsgId(e) });
    if (ack.duplicate) duplicatesAcked++;
  };

  try {
    // Runs become known (accepted, started) so their streams can open before any sample.
    await Promise.all(runs.map(async (r) => {
      await publish(r.accepted);
      await publish(r.started);
    }));
    await waitFor(async () => {
      const known = await Promise.all(runs.map((r) => fetch(`${base}/runs/${r.runId}`).then((res) => res.status === 200)));
      return known.every(Boolean);
    }, { timeoutMs: 20_000, what: 'every run known' });

    // SSE: one stream per run from before its first sample, and one opened mid-ingest (replay, then live).
    const streams: { run: RunFixture; kind: string; done: Promise<SseEvent[] | null> }[] = [];
    const openStream = (run: RunFixture, kind: string) => {
      const done = readSse(`${base}/runs/${run.runId}/events`).catch((err) => {
        errors.push(`SSE ${kind} ${run.runId}: ${String(err)}`);
        return null;
      });
      streams.push({ run, kind, done });
    };
    for (const r of runs) openStream(r, 'early');

    // Readers, each in its own loop until the ingest is over.
    let ingesting = true;
    const reads: Record<string, number> = { results: 0, results_summary: 0, compare: 0 };
    const compareStatus: Record<string, number> = {};
    const loop = async (name: string, fn: (i: number) => Promise<void>) => {
      for (let i = 0; ingesting; i++) {
        try {
          await fn(i);
          reads[name]!++;
        } catch (err) {
          errors.push(`${name}: ${String(err)}`);
        }
      }
    };
    const get = async (path: string) => {
      const res = await fetch(`${base}${path}`);
      const body = await res.text();
      if (res.status >= 500) throw new Error(`GET ${path} → ${res.status}: ${body.slice(0, 300)}`);
      return { status: res.status, body };
    };
    // A run in /results is complete: every announced sample, each once.
    const checkResults = (doc: any, where: string) => {
      for (const [label, list] of Object.entries(doc.runs as Record<string, any[]>)) {
        for (const run of list) {
          const ids = run.samples.map((s: { request_id: string }) => s.request_id);
          if (ids.length !== SAMPLES_PER_RUN || new Set(ids).size !== ids.length) {
            errors.push(`${where}: ${label} run ${run.run_meta.run_id} served with ${ids.length} samples (${new Set(ids).size} distinct)`);
          }
        }
      }
    };
    const readers = [
      loop('results', async () => {
        const r = await get('/results');
        if (r.status !== 200) throw new Error(`/results → ${r.status}`);
        checkResults(JSON.parse(r.body), '/results');
      }),
      loop('results_summary', async () => {
        const r = await get('/results?summary=true');
        if (r.status !== 200) throw new Error(`/results?summary=true → ${r.status}`);
      }),
      loop('compare', async (i) => {
        // 404 until both systems of the workload completed; never a 5xx.
        const r = await get(`/compare?workload_id=wl-loadp-${i % WORKLOADS}`);
        compareStatus[r.status] = (compareStatus[r.status] ?? 0) + 1;
        if (r.status !== 200 && r.status !== 404) throw new Error(`/compare → ${r.status}: ${r.body.slice(0, 300)}`);
      }),
    ];

    // Ingest: every run's samples concurrently, then its final engine_stats and completed, as an agent does.
    const t0 = process.hrtime.bigint();
    const cpu0 = { agg: cpuSecondsOf(pid), test: process.cpuUsage() };
    await Promise.all(runs.map(async (r) => {
      let next = 0;
      let midOpened = false;
      const worker = async () => {
        while (next < r.samples.length) {
          const e = r.samples[next++]!;
          await publish(e);
          if (!midOpened && next >= r.samples.length / 2) {
            midOpened = true;
            openStream(r, 'mid');
          }
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT_PER_RUN }, worker));
      await publish(r.engineStats);
      await publish(r.completed);
    }));
    const published = process.hrtime.bigint();
    await waitFor(async () => {
      const states = await Promise.all(runs.map((r) => fetch(`${base}/runs/${r.runId}`).then((res) => res.json() as Promise<{ status: string }>)));
      return states.every((s) => s.status === 'completed');
    }, { timeoutMs: 120_000, intervalMs: 100, what: 'every run completed' });
    const ingested = process.hrtime.bigint();
    const testCpu = process.cpuUsage(cpu0.test);
    const cpu = { aggregator: (cpuSecondsOf(pid) - cpu0.agg).toFixed(1), test: ((testCpu.user + testCpu.system) / 1e6).toFixed(1) };
    const streamEvents = await Promise.all(streams.map((s) => s.done));
    ingesting = false;
    await Promise.all(readers);
    clearInterval(sampler);

    const final = rssOf(pid);
    // VmHWM is the kernel's own peak; per-thread RSS counters can make a sample read a little above it.
    const peak = Math.max(peakSampled, final.hwm);
    const seconds = (a: bigint, b: bigint) => (Number(b - a) / 1e9).toFixed(2);
    t.diagnostic(`runs ${runs.length} × ${SAMPLES_PER_RUN} samples = ${runs.length * SAMPLES_PER_RUN} samples; ` +
      `published in ${seconds(t0, published)} s, all completed ${seconds(t0, ingested)} s after the first sample; ` +
      `CPU seconds meanwhile: aggregator ${cpu.aggregator}, test process (publisher, readers) ${cpu.test}`);
    t.diagnostic(`aggregator RSS: start ${mib(startRss)} MiB, peak sampled ${mib(peakSampled)} MiB (${rssSamples} samples), ` +
      `VmHWM ${mib(final.hwm)} MiB, end ${mib(final.rss)} MiB; peak ${mib(peak)} MiB`);
    t.diagnostic(`reads during ingest: ${JSON.stringify(reads)}, /compare statuses ${JSON.stringify(compareStatus)}, SSE streams ${streams.length}`);

    // No errors anywhere: readers, streams, the aggregator's own log.
    assert.deepEqual(errors, []);
    assert.equal(duplicatesAcked, 0, 'every msgID is new');
    assert.ok(reads.results! > 0 && reads.compare! > 0 && reads.results_summary! > 0, JSON.stringify(reads));
    const errorLines = agg.output().split('\n').filter((l) => /"level":(50|60)/.test(l));
    assert.deepEqual(errorLines, [], 'no error logged by the aggregator');

    // Every stream: each sample of its run exactly once, ending with completed.
    assert.equal(streams.length, runs.length * 2);
    for (const [i, s] of streams.entries()) {
      const events = streamEvents[i]!;
      const ids = events.filter((e) => e.event === 'sample').map((e) => e.data.sample.request_id as string).sort();
      assert.deepEqual(ids, expectedIds(s.run), `${s.kind} stream of ${s.run.runId}: every sample once`);
      assert.equal(events.at(-1)!.event, 'completed', `${s.kind} stream of ${s.run.runId} ends with completed`);
      assert.equal(events.at(-1)!.data.sample_count, SAMPLES_PER_RUN);
      assert.ok(!events.some((e) => e.event === 'failed'));
    }

    // Every run's results: exactly its samples, each once; the whole document holds all ten.
    for (const r of runs) {
      const res = await fetch(`${base}/results?run_id=${r.runId}`);
      assert.equal(res.status, 200);
      const doc = (await res.json()) as { runs: Record<string, { samples: { request_id: string }[]; run_meta: { run_id: string } }[]> };
      assert.deepEqual(Object.keys(doc.runs), [r.label]);
      assert.equal(doc.runs[r.label]!.length, 1);
      assert.deepEqual(doc.runs[r.label]![0]!.samples.map((s) => s.request_id).sort(), expectedIds(r), `results of ${r.runId}`);
    }
    const all = (await (await fetch(`${base}/results`)).json()) as { runs: Record<string, { run_meta: { run_id: string } }[]> };
    assert.deepEqual(
      Object.values(all.runs).flat().map((x) => x.run_meta.run_id).sort(),
      runs.map((r) => r.runId).sort(),
    );

    // Every workload compares pcie and c2c over all their paired requests.
    for (let w = 0; w < WORKLOADS; w++) {
      const res = await fetch(`${base}/compare?workload_id=wl-loadp-${w}`);
      assert.equal(res.status, 200);
      const cmp = (await res.json()) as { systems: { label: string }[]; rows: { phase: string; context_tokens: number | null; vs_baseline: { paired: number }[] }[] };
      assert.deepEqual(cmp.systems.map((s) => s.label).sort(), ['c2c', 'pcie']);
      const allRow = cmp.rows.find((row) => row.phase === 'all' && row.context_tokens === null);
      assert.equal(allRow?.vs_baseline[0]?.paired, SAMPLES_PER_RUN, JSON.stringify(cmp.rows.map((row) => [row.context_tokens, row.phase])));
    }

    // Everything acked: nothing left pending on the aggregator's consumer.
    const jsm = await jetstreamManager(h.nc);
    const info = await jsm.consumers.info(EVENTS_STREAM, AGGREGATOR_CONSUMER);
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_pending, 0);

    // Memory bounded.
    assert.ok(Number.isFinite(final.hwm) && final.hwm > 0, 'VmHWM read');
    assert.ok(rssSamples > 0, 'RSS sampled during the ingest');
    assert.ok(peak < RSS_LIMIT_MIB * 2 ** 20, `peak RSS ${mib(peak)} MiB ≥ ${RSS_LIMIT_MIB} MiB`);
  } finally {
    clearInterval(sampler);
  }
});
