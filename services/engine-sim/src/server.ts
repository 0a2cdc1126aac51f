/**
 * The simulator's HTTP server (node:http, so emission timing is not shaped by a framework):
 * trtllm-serve's endpoints in trtllm-serve's shapes, every answer labelled simulated.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import seedrandom from 'seedrandom';
import { consoleLogger, type Logger } from '@kvbench/common';
import { resolveSim, type ResolvedSim, type SimOptions } from './config.js';
import { Engine, type IterationResult } from './engine.js';
import { TimingModel } from './timing.js';
import { bandwidthAt, blockTable } from './link.js';
import { RealtimeDriver, type EmissionRecord } from './driver.js';
import { VirtualDriver } from './virtual-driver.js';
import { z } from 'zod';
import { InlinePreparer, WorkerPreparer, type RequestPreparer } from './tokenizer-pool.js';
import { OUTPUT_WORDS } from './tokenizer.js';
import { now } from './clock.js';
import {
  BadRequest, DONE, errorBody, fullResponse, roleChunk, textChunk, usage, usageChunk,
  type ApiKind, type ChunkContext, type ParsedRequest, type SimLabels,
} from './wire.js';

export const SIM_VERSION = '0.1.0';

/** Virtual clock: a request's modelled arrival (seconds on the virtual clock), set by the client. */
export const ARRIVAL_HEADER = 'x-kvbench-arrival-s';
/**
 * Virtual clock: the client's submission number (0, 1, …). Requests sent together reach the server in the
 * network's order and leave the tokenizer in its own; the driver queues them in this order, and it is their
 * engine id (seq + 1), so the same seed gives the same queue and the same ids.
 */
export const SEQ_HEADER = 'x-kvbench-seq';
/** How long POST /sim/advance waits for the generate requests the client says it has sent. */
const ADVANCE_WAIT_MS = 30_000;
const AdvanceBody = z.object({
  /** Run no iteration starting at or after this modelled time; null: no limit. */
  until_s: z.number().nonnegative().nullable(),
  /** Generate requests the client has sent so far: the simulator first waits until it has them all. */
  submitted: z.number().int().nonnegative(),
}).strict();

export interface StartSimServerOptions extends SimOptions {
  logger?: Logger;
  /** Keep at most this many emission records (for the jitter benchmark). Default 100000. */
  emissionLogMax?: number;
}

export interface SimServer {
  url: string;
  port: number;
  close(): Promise<void>;
  /** The resolved configuration (pool sizes, clamped max_seq_len, profile, shape). */
  resolved: ResolvedSim;
  engine: Engine;
  driver: RealtimeDriver | VirtualDriver;
  /** Emission records since the last call (due vs. sent, steady-clock ns). */
  drainEmissions(): EmissionRecord[];
}

interface Live {
  id: number;
  ctx: ChunkContext;
  req: ParsedRequest;
  promptTokens: number;
  words: string[];
  res: ServerResponse;
  cachedTokens: number;
  text: string[];
  done: boolean;
  /** Virtual clock: the modelled time of each generated token. */
  tokenTimes: number[];
}

/** Spin window before a due emission (clock.ts): 1.5 ms at real-time speed, less when scaled down to spare CPU. */
function spinWindowMs(timeScale: number): number {
  return timeScale >= 0.5 ? 1.5 : 0.5;
}

export async function startSimServer(options: StartSimServerOptions): Promise<SimServer> {
  const log = options.logger ?? consoleLogger('info', '[engine-sim] ');
  const cfg = resolveSim(options);
  for (const n of cfg.notices) log.warn(n);
  const labels: SimLabels = { engine: 'sim', simulated: true, profile: cfg.profile.name, time_scale: cfg.timeScale };
  const timing = new TimingModel(cfg.profile, cfg.shape, cfg.tokensPerBlock);

  // Filled in once the driver exists (the engine needs the clock mapping for its records).
  let driver!: RealtimeDriver | VirtualDriver;
  const virtual = cfg.clock === 'virtual';
  const engine = new Engine(
    {
      maxBatchSize: cfg.maxBatchSize,
      maxNumTokens: cfg.maxNumTokens,
      tokensPerBlock: cfg.tokensPerBlock,
      gpuBlocks: cfg.gpuBlocks,
      hostBlocks: cfg.hostBlocks,
      enableBlockReuse: cfg.yaml.kv_cache_config.enable_block_reuse,
      enableChunkedPrefill: cfg.enableChunkedPrefill,
      secondaryOffloadMinPriority: cfg.yaml.kv_cache_config.secondary_offload_min_priority,
      eventBufferMaxSize: cfg.yaml.kv_cache_config.event_buffer_max_size,
      windowSize: cfg.maxSeqLen,
      enableIterPerfStats: cfg.yaml.enable_iter_perf_stats,
      iterStatsMaxIterations: cfg.iterStatsMaxIterations,
      legacyMetrics: cfg.legacyMetrics,
      returnPerfMetrics: cfg.yaml.return_perf_metrics && cfg.yaml.perf_metrics_max_requests > 0,
      perfMetricsMaxRequests: cfg.yaml.perf_metrics_max_requests,
      toSteadySeconds: (t) => driver.steadySeconds(t),
      // Virtual clock: iteration timestamps are modelled time after the Unix epoch (no wall clock in them).
      toWallClock: (t) => (virtual ? new Date(Math.round(t * 1000)) : new Date(wallEpochMs + (Number(driver.wallNs(t) - driver.epochNs) / 1e6))),
      statsLabels: { engine: 'sim', simulated: true, profile: cfg.profile.name, ...(virtual ? { clock: 'virtual' } : {}) },
    },
    timing,
  );
  const wallEpochMs = Date.now();

  const live = new Map<number, Live>();
  const emissionLogMax = options.emissionLogMax ?? 100_000;
  let emissions: EmissionRecord[] = [];
  /** First-token send times until /perf_metrics reports them; bounded like the engine's queue. */
  const firstTokenSentNs = new Map<number, bigint>();
  const perfOn = cfg.yaml.return_perf_metrics && cfg.yaml.perf_metrics_max_requests > 0;
  /** Real ns each request spent between its receipt and its submission to the engine. */
  const intakeNs = new Map<number, bigint>();
  const rememberFirstSent = (id: number, ns: bigint) => {
    if (!perfOn) return;
    firstTokenSentNs.set(id, ns);
    const cap = 2 * cfg.yaml.perf_metrics_max_requests + 1024;
    for (const k of firstTokenSentNs.keys()) {
      if (firstTokenSentNs.size <= cap) break;
      firstTokenSentNs.delete(k);
    }
  };

  /** Virtual clock: token times and response ids of finished requests until POST /sim/advance reports them. */
  const finishedTimes = new Map<number, number[]>();
  const finishedIds = new Map<number, string>();
  /** Builds every chunk of an iteration ahead of its due time; the returned function only writes. */
  const prepare = (r: IterationResult, dueNs: bigint): (() => void) => {
    const writes: Array<{ l: Live; data: string; first: boolean; end: boolean; json?: Record<string, unknown> }> = [];
    for (const e of r.emissions) {
      const l = live.get(e.id);
      if (!l) continue;
      const word = l.words[e.index]!;
      l.text.push(word);
      if (virtual) l.tokenTimes.push(r.end);
      if (!l.req.stream) continue;
      const data = (e.index === 0 && l.ctx.kind === 'chat' ? roleChunk(l.ctx) : '') + textChunk(l.ctx, word, e.final ? 'length' : null);
      writes.push({ l, data, first: e.index === 0, end: false });
    }
    const finals: Array<{ l: Live; data: string | null; json: Record<string, unknown> | null }> = [];
    for (const f of r.finished) {
      const l = live.get(f.id);
      if (!l) continue;
      const u = usage(f.promptTokens, f.completionTokens, f.cachedTokens);
      if (l.req.stream) finals.push({ l, data: (l.req.includeUsage ? usageChunk(l.ctx, u) : '') + DONE, json: null });
      else finals.push({ l, data: null, json: fullResponse(l.ctx, l.text.join(''), u) });
    }
    return () => {
      const wake = now();
      for (const w of writes) {
        if (w.l.done) continue;
        w.l.res.write(w.data);
        const sent = now();
        if (w.first) rememberFirstSent(w.l.id, sent);
        if (!virtual && emissions.length < emissionLogMax) emissions.push({ dueNs, sentNs: sent, wakeNs: wake });
      }
      for (const f of finals) {
        if (virtual) (finishedTimes.set(f.l.id, f.l.tokenTimes), finishedIds.set(f.l.id, f.l.ctx.id));
        if (f.l.done) continue;
        live.delete(f.l.id);
        f.l.done = true;
        if (f.data !== null) f.l.res.end(f.data);
        else {
          const sent = now();
          if (!firstTokenSentNs.has(f.l.id)) rememberFirstSent(f.l.id, sent);
          sendJson(f.l.res, 200, f.json);
        }
      }
    };
  };
  driver = virtual ? new VirtualDriver(engine, prepare) : new RealtimeDriver(engine, cfg.timeScale, prepare, spinWindowMs(cfg.timeScale));
  /** Generate requests answered so far (submitted or refused): POST /sim/advance waits for the client's count. */
  let received = 0;
  let receivedWaiters: Array<{ n: number; resolve: () => void }> = [];
  const countReceived = () => {
    received++;
    receivedWaiters = receivedWaiters.filter((w) => (received >= w.n ? (w.resolve(), false) : true));
  };
  const waitReceived = (n: number, timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      if (received >= n) return resolve(true);
      const timer = setTimeout(() => {
        receivedWaiters = receivedWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = { n, resolve: () => (clearTimeout(timer), resolve(true)) };
      receivedWaiters.push(waiter);
    });

  const preparer: RequestPreparer = options.tokenizerWorker === false ? new InlinePreparer() : new WorkerPreparer();
  if (preparer instanceof WorkerPreparer) await preparer.ready;

  let nextId = 1;
  /** Virtual clock: engine ids taken (by submission number or in order). */
  const usedIds = new Set<number>();
  const sendJson = (res: ServerResponse, status: number, body: unknown) => sendRawJson(res, status, JSON.stringify(body));
  const sendRawJson = (res: ServerResponse, status: number, text: string) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-kvbench-engine': 'sim', 'x-kvbench-profile': cfg.profile.name });
    res.end(text);
  };

  async function handleGenerate(kind: ApiKind, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await generate(kind, req, res);
    } finally {
      countReceived();
    }
  }

  async function generate(kind: ApiKind, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedNs = now();
    let arrivalS: number | undefined;
    let seq: number | undefined;
    if (virtual) {
      const h = req.headers[ARRIVAL_HEADER];
      if (h !== undefined) {
        arrivalS = Number(h);
        if (typeof h !== 'string' || !Number.isFinite(arrivalS) || arrivalS < 0) {
          req.resume();
          return sendJson(res, 400, errorBody(400, `header ${ARRIVAL_HEADER}: '${String(h)}' is not a non-negative number of modelled seconds`, labels));
        }
      }
      const q = req.headers[SEQ_HEADER];
      if (q !== undefined) {
        seq = Number(q);
        if (typeof q !== 'string' || !Number.isSafeInteger(seq) || seq < 0) {
          req.resume();
          return sendJson(res, 400, errorBody(400, `header ${SEQ_HEADER}: '${String(q)}' is not a non-negative integer`, labels));
        }
        if (usedIds.has(seq + 1)) {
          req.resume();
          return sendJson(res, 409, errorBody(409, `header ${SEQ_HEADER}: submission ${seq} was already made: a simulator on the virtual clock serves one run (its modelled time does not restart); start a fresh one per run`, labels));
        }
      }
    }
    const body = await readBody(req);
    let prepared;
    try {
      prepared = await preparer.prepare(kind, body, cfg.yaml.kv_cache_config.enable_block_reuse ? cfg.tokensPerBlock : 0);
    } catch (err) {
      if (err instanceof BadRequest) return sendJson(res, 400, errorBody(400, err.message, labels));
      throw err;
    }
    const { req: p, ids, hashes } = prepared;
    const P = ids.length;
    if (P === 0) return sendJson(res, 400, errorBody(400, 'prompt is empty', labels));
    if (P + p.maxTokens > cfg.maxSeqLen) {
      const why = cfg.maxSeqLen < cfg.maxSeqLenRequested ? ` (reduced from ${cfg.maxSeqLenRequested} because kv_cache_config.max_tokens holds only ${cfg.gpuBlocks} blocks of ${cfg.tokensPerBlock} tokens)` : '';
      return sendJson(res, 400, errorBody(400, `The sum of prompt length (${P}) and max_tokens (${p.maxTokens}) should not exceed max_seq_len (${cfg.maxSeqLen})${why}`, labels));
    }
    if (!cfg.enableChunkedPrefill && P > cfg.maxNumTokens)
      return sendJson(res, 400, errorBody(400, `The prompt length (${P}) should not exceed max_num_tokens (${cfg.maxNumTokens}) without enable_chunked_prefill`, labels));

    const id = seq !== undefined ? seq + 1 : nextId++;
    if (virtual) {
      usedIds.add(id);
      while (usedIds.has(nextId)) nextId++;
    }
    const rng = seedrandom(`${cfg.seed}:${promptKey(ids)}`);
    const words = Array.from({ length: p.maxTokens }, () => OUTPUT_WORDS[Math.floor(rng() * OUTPUT_WORDS.length)]!);
    const ctx: ChunkContext = {
      kind,
      id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-sim${cfg.seed}-${id}`,
      created: Math.floor(Date.now() / 1000),
      model: p.model ?? cfg.model,
      labels,
    };
    const l: Live = { id, ctx, req: p, promptTokens: P, words, res, cachedTokens: 0, text: [], done: false, tokenTimes: [] };
    live.set(id, l);
    if (p.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-kvbench-engine': 'sim', 'x-kvbench-profile': cfg.profile.name });
      res.flushHeaders();
    }
    res.on('close', () => {
      if (!l.done) {
        l.done = true;
        live.delete(id);
        driver.cancel(id);
      }
    });
    driver.submit({ id, responseId: ctx.id, tokens: ids, hashes, maxTokens: p.maxTokens }, arrivalS, seq);
    // Host work the model does not have (reading, parsing, tokenizing): reported as intake_s, part of the run's host lateness.
    if (!virtual && perfOn) {
      intakeNs.set(id, now() - receivedNs);
      for (const k of intakeNs.keys()) {
        if (intakeNs.size <= 2 * cfg.yaml.perf_metrics_max_requests + 1024) break;
        intakeNs.delete(k);
      }
    }
  }

  /** POST /sim/advance (virtual clock only): lockstep with the client, see virtual-driver.ts. */
  async function handleAdvance(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = new TextDecoder().decode(await readBody(req));
    if (!(driver instanceof VirtualDriver)) return sendJson(res, 409, errorBody(409, 'POST /sim/advance needs the virtual clock (--clock virtual)', labels));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return sendJson(res, 400, errorBody(400, 'body is not JSON', labels));
    }
    const parsed = AdvanceBody.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return sendJson(res, 400, errorBody(400, `${issue.path.join('.') || 'body'}: ${issue.message}`, labels));
    }
    const { until_s, submitted } = parsed.data;
    if (!(await waitReceived(submitted, ADVANCE_WAIT_MS)))
      return sendJson(res, 409, errorBody(409, `submitted: ${submitted} generate requests announced, ${received} received within ${ADVANCE_WAIT_MS / 1000} s`, labels));
    const r = driver.advance(until_s);
    const finished = r.finished.map(({ id, outcome: o }) => ({
      response_id: live.get(id)?.ctx.id ?? finishedIds.get(id) ?? null,
      arrival_s: o.arrival,
      first_scheduled_s: o.firstScheduled,
      first_token_s: o.firstToken,
      end_s: o.lastToken,
      token_times_s: finishedTimes.get(id) ?? [],
    }));
    for (const { id } of r.finished) (finishedTimes.delete(id), finishedIds.delete(id));
    return sendJson(res, 200, { ...labels, clock: 'virtual', now_s: r.nowS, idle: r.idle, iterations: r.iterations, stats_backlog: r.statsBacklog, finished });
  }

  function drainPerf(): unknown[] {
    const out = engine.drainPerfMetrics();
    for (const e of out) {
      const id = e.request_id as number;
      const sent = firstTokenSentNs.get(id);
      firstTokenSentNs.delete(id);
      const intake = intakeNs.get(id);
      intakeNs.delete(id);
      Object.assign(e, labels, { sim: { ...(e.sim as Record<string, unknown> | undefined), first_token_sent_time: virtual || sent === undefined ? null : Number(sent) / 1e9, intake_s: intake === undefined ? null : Number(intake) / 1e9 } });
    }
    return out;
  }

  const server = createServer({ noDelay: true, keepAlive: true }, (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const route = `${req.method} ${url}`;
    const fail = (err: unknown) => {
      log.error({ err: String(err), route }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, errorBody(500, String((err as Error)?.message ?? err), labels));
      else res.destroy();
    };
    try {
      switch (route) {
        case 'POST /v1/completions':
          return void handleGenerate('completions', req, res).catch(fail);
        case 'POST /v1/chat/completions':
          return void handleGenerate('chat', req, res).catch(fail);
        case 'POST /sim/advance':
          return void handleAdvance(req, res).catch(fail);
        case 'GET /health':
          res.writeHead(200, { 'content-length': 0, 'x-kvbench-engine': 'sim' });
          return void res.end();
        case 'GET /version':
          return sendJson(res, 200, {
            version: `kvbench-sim ${SIM_VERSION}`,
            ...labels,
            model: cfg.model,
            model_shape: cfg.shape,
            max_seq_len: cfg.maxSeqLen,
            gpu_blocks: cfg.gpuBlocks,
            host_blocks: cfg.hostBlocks,
            tokens_per_block: cfg.tokensPerBlock,
            block_bytes: cfg.blockBytes,
            // The profile's host→GPU bandwidth for one block copy (what an onboard of this block size gets).
            h2d_block_gbps: bandwidthAt(blockTable(cfg.profile.link, 'h2d'), timing.blockBytes),
            // GPU→host for one block (an eviction's offload), and the cap on both directions at once
            // (null: none modelled): a reload into a full pool overlaps with the offloads it forces (link.ts).
            d2h_block_gbps: bandwidthAt(blockTable(cfg.profile.link, 'd2h'), timing.blockBytes),
            bidirectional_gbps: cfg.profile.link.bidirectional_total_GBps ?? null,
            legacy_metrics: cfg.legacyMetrics,
            clock: cfg.clock,
          });
        case 'GET /v1/models':
          return sendJson(res, 200, { object: 'list', data: [{ id: cfg.model, object: 'model', created: Math.floor(wallEpochMs / 1000), owned_by: 'tensorrt_llm', ...labels }] });
        case 'GET /metrics': {
          return sendRawJson(res, 200, engine.drainIterationStatsJson());
        }
        case 'GET /perf_metrics':
          return sendJson(res, 200, drainPerf());
        case 'GET /steady_clock_offset': {
          // trtllm-serve's shape: the server's steady clock at receipt and at transmission, the clock
          // /perf_metrics timestamps are on (here process.hrtime, CLOCK_MONOTONIC).
          // Virtual clock: the modelled time reached (the clock /perf_metrics is on there).
          const steady = () => (virtual ? driver.modelNow() : Number(now()) / 1e9);
          const receive = steady();
          return sendJson(res, 200, { receive_ts: receive, transmit_ts: steady(), ...labels });
        }
        case 'GET /sim/emissions': {
          // Simulator-only: lateness of every token handed to a socket since the last read
          // (sent − due on the modelled timeline), for the scheduling-jitter benchmark.
          const recs = emissions;
          emissions = [];
          return sendJson(res, 200, {
            ...labels,
            count: recs.length,
            lateness_ms: recs.map((r) => Number(r.sentNs - r.dueNs) / 1e6),
            wake_lateness_ms: recs.map((r) => Number(r.wakeNs - r.dueNs) / 1e6),
          });
        }
        case 'GET /sim/link_series': {
          // Simulator-only (issue 23): modelled link bytes per iteration since `after`, for the telemetry
          // sampler; the profiles carry no power model, so power is null with the reason.
          const after = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('after') ?? '-1');
          return sendJson(res, 200, {
            ...labels,
            model_now_s: driver.modelNow(),
            clock: virtual ? 'virtual' : 'real',
            block_bytes: timing.blockBytes,
            ...engine.linkSeries.since(Number.isFinite(after) ? after : -1),
            power_w: null,
            power_reason: `the hardware profile (${cfg.profile.name}) has no power model`,
          });
        }
        case 'POST /kv_cache_events':
          req.resume();
          return void req.on('end', () => sendJson(res, 200, engine.drainEvents()));
        default:
          req.resume();
          return sendJson(res, 404, { detail: 'Not Found', ...labels });
      }
    } catch (err) {
      fail(err);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info(
    `${cfg.model} (${cfg.shape.name}, tp ${cfg.shape.tp}) on profile ${cfg.profile.name}: GPU pool ${cfg.gpuBlocks} blocks, host pool ${cfg.hostBlocks} blocks of ` +
      `${cfg.tokensPerBlock} tokens (${(cfg.blockBytes / 2 ** 20).toFixed(2)} MiB per block per rank), max_seq_len ${cfg.maxSeqLen}, time scale ${cfg.timeScale}`,
  );

  return {
    url,
    port: addr.port,
    resolved: cfg,
    engine,
    driver,
    drainEmissions() {
      const out = emissions;
      emissions = [];
      return out;
    },
    async close() {
      driver.close();
      for (const l of live.values()) l.res.destroy();
      live.clear();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await preparer.close();
    },
  };
}

function readBody(req: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    // Always a fresh copy: the preparer may transfer (detach) its memory to the worker thread.
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A cheap stable key of a prompt for the output generator's seed. */
function promptKey(ids: Uint32Array): string {
  let h = 2166136261;
  for (let i = 0; i < ids.length; i++) h = Math.imul(h ^ ids[i]!, 16777619) >>> 0;
  return `${ids.length}-${h}`;
}
