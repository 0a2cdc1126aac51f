import { type RunEvent } from '@kvbench/common';
import { WORKLOADS_BUCKET, eventSubject, setupBus } from '@kvbench/bus';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { sampleOf } from './fixtures.js';
import { listenOnLoopback, startNatsServer, tempDir, waitFor, type NatsServerHandle } from '@kvbench/testkit';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { buildApp, type AppDeps } from '../src/app.js';
import { loadAggregatorConfig, type AggregatorConfig } from '../src/config.js';

/** Log lines captured from the app (pino writes JSON lines to this stream). */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  write(line: string): void {
    try {
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* not JSON: ignore */
    }
  }
  find(pred: (l: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
    return this.lines.find(pred);
  }
}

export interface Harness {
  nats: NatsServerHandle;
  dir: string;
  dbPath: string;
  nc: NatsConnection;
  js: JetStreamClient;
  config(env?: Record<string, string>): AggregatorConfig;
  start(opts?: { env?: Record<string, string>; deps?: AppDeps; logs?: LogCapture }): Promise<FastifyInstance>;
  /** Publish and wait for the stream's acks; `concurrent` sends them all before waiting. */
  publish(events: readonly RunEvent[], msgIdSuffix?: string, concurrent?: boolean): Promise<void>;
  publishRaw(subject: string, data: string | Uint8Array): Promise<void>;
  /** Store the workloads of these events' accepted runs (what publish does first); for tests that publish themselves. */
  registerWorkloads(events: readonly RunEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** A unique de-duplication id per event (the host agent's convention does not matter here). */
export function msgIdOf(e: RunEvent): string {
  const key = e.type === 'sample' ? e.sample.request_id : e.type === 'engine_stats' ? `${e.final}:${e.at}` : e.type === 'telemetry' ? String(e.chunk) : '';
  return `${e.run_id}.${e.attempt}.${e.type}.${key}`;
}

export async function startHarness(): Promise<Harness> {
  const nats = await startNatsServer();
  const dir = await tempDir('kvbench-agg-');
  const nc = await connect({ servers: nats.url });
  await setupBus(nc);
  const js = jetstream(nc);
  const store = await new Objm(nc).create(WORKLOADS_BUCKET);
  const registered = new Map<string, Set<string>>();
  const workloadOfRun = new Map<string, string>();
  const apps: FastifyInstance[] = [];
  const dbPath = join(dir.path, 'agg.sqlite');
  // One registration after another: a call that finds its ids already registered must still wait for
  // the put that registers them. Concurrent publishes (load.test) otherwise sent samples before their
  // workload was in the store; the aggregator rejected them ("not in the workload store"), the run never
  // completed and the test hung: load.test.js alone hung in 2 of 5 runs here before this (and once in a
  // process lane, spinning on /results), and passed 10 of 10 after it.
  let registering: Promise<void> = Promise.resolve();
  const register = (events: readonly RunEvent[]) => (registering = registering.then(() => registerWorkloads(store, registered, workloadOfRun, events)));
  const config = (env: Record<string, string> = {}) =>
    loadAggregatorConfig({ NATS_URL: nats.url, DB_PATH: dbPath, PORT: '0', LOG_LEVEL: 'warn', ...env });
  return {
    nats,
    dir: dir.path,
    dbPath,
    nc,
    js,
    config,
    async start({ env, deps, logs } = {}) {
      const app = await buildApp(config(env), {
        logger: logs ? { level: 'info', stream: logs } : false,
        ...deps,
      });
      apps.push(app);
      return app;
    },
    async publish(events, suffix = '', concurrent = false) {
      await register(events);
      if (concurrent) {
        await Promise.all(events.map((e) => js.publish(eventSubject(e.run_id, e.type), JSON.stringify(e), { msgID: msgIdOf(e) + suffix })));
        return;
      }
      for (const e of events) {
        await js.publish(eventSubject(e.run_id, e.type), JSON.stringify(e), { msgID: msgIdOf(e) + suffix });
      }
    },
    registerWorkloads: register,
    async publishRaw(subject, data) {
      await js.publish(subject, data);
    },
    async close() {
      for (const app of apps.reverse()) await app.close().catch(() => {});
      await nc.drain().catch(() => {});
      await nats.close();
      await dir.cleanup();
    },
  };
}

/** The harness and one aggregator on it, as most files start them before their tests; `h.close()` closes both. */
export async function startAggregator(): Promise<{ h: Harness; app: FastifyInstance }> {
  const h = await startHarness();
  return { h, app: await h.start() };
}

/** `startAggregator`, the app listening on 127.0.0.1 for what needs real HTTP (SSE streams, a browser) at `base`. */
export async function startListeningAggregator(): Promise<{ h: Harness; app: FastifyInstance; base: string }> {
  const { h, app } = await startAggregator();
  return { h, app, base: await listenOnLoopback(app) };
}

/**
 * The aggregator accepts a sample only for a request of its run's workload, which it reads from
 * the workloads object store, as workload-api stores it. Fixture runs are published without
 * workload-api, so the harness stores each accepted run's workload first: a real native document
 * holding the request ids the run announces (fixtures number them as sampleOf does) and sends.
 */
async function registerWorkloads(
  store: ObjectStore,
  registered: Map<string, Set<string>>,
  workloadOf: Map<string, string>,
  events: readonly RunEvent[],
): Promise<void> {
  for (const e of events) if (e.type === 'accepted') workloadOf.set(e.run_id, e.job.workload_id);
  const wanted = new Map<string, Set<string>>();
  const want = (wl: string, id: string) => {
    if (!registered.get(wl)?.has(id)) (wanted.get(wl) ?? wanted.set(wl, new Set()).get(wl)!).add(id);
  };
  for (const e of events) {
    const wl = workloadOf.get(e.run_id);
    if (!wl) continue;
    if (e.type === 'started') for (let i = 0; i < e.expected_samples; i++) want(wl, sampleOf(i).request_id);
    if (e.type === 'sample') want(wl, e.sample.request_id);
  }
  for (const [wl, ids] of wanted) {
    const all = new Set([...(registered.get(wl) ?? []), ...ids]);
    registered.set(wl, all);
    const doc = {
      schema: 'kvbench.workload', version: 1, tokenizer: 'cl100k_base', params: null,
      prompts: [{ id: 'p0', context_tokens: 1024, tokens: 1, text: 'x' }],
      batches: [{ index: 0, context_tokens: 1024, delay_ms: 0, requests: [...all].map((request_id) => ({ request_id, prompt_id: 'p0', phase: 'cold' })) }],
    };
    await store.putBlob({ name: wl }, new TextEncoder().encode(JSON.stringify(doc)));
  }
}

/** GET a JSON route through inject, failing loudly on a non-200. */
export async function getJson<T = any>(app: FastifyInstance, url: string, headers: Record<string, string> = {}): Promise<T> {
  const r = await app.inject({ method: 'GET', url, headers });
  if (r.statusCode !== 200) throw new Error(`GET ${url} → ${r.statusCode}: ${r.body.slice(0, 500)}`);
  return r.json() as T;
}

/** A run's detail, or null while it is unknown (404). */
export async function runOrNull(app: FastifyInstance, runId: string): Promise<any | null> {
  const r = await app.inject({ method: 'GET', url: `/runs/${runId}` });
  return r.statusCode === 200 ? r.json() : null;
}

/** Wait until the run is known and has stored `n` samples of its current attempt. */
export async function waitForReceived(app: FastifyInstance, runId: string, n: number): Promise<any> {
  return waitFor(async () => {
    const run = await runOrNull(app, runId);
    return run && run.received_samples === n ? run : false;
  }, { timeoutMs: 120_000, what: `${n} samples of ${runId}` });
}

export async function waitForRunStatus(app: FastifyInstance, runId: string, status: string, timeoutMs = 20_000): Promise<any> {
  return waitFor(
    async () => {
      const r = await app.inject({ method: 'GET', url: `/runs/${runId}` });
      if (r.statusCode !== 200) return false;
      const run = r.json();
      return run.status === status ? run : false;
    },
    { timeoutMs, what: `run ${runId} ${status}` },
  );
}
