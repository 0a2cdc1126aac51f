/**
 * The published scenarios the model is checked against (validate.ts prints them).
 * Everything runs the same Engine the server runs, in modelled time (no waiting).
 */
import { Engine, type RequestOutcome } from './engine.js';
import { loadProfile, type MeasuredOffloadVsRecompute, type Profile } from './profile.js';
import { resolveModelShape } from './shapes.js';
import { TimingModel } from './timing.js';

const TPB = 64;

function engineFor(profile: Profile, model: string, tp: number, gpuBlocks: number, hostBlocks: number, maxNumTokens = 8192): Engine {
  const shape = resolveModelShape(model, { tp });
  return new Engine(
    {
      maxBatchSize: 1,
      maxNumTokens,
      tokensPerBlock: TPB,
      gpuBlocks,
      hostBlocks,
      enableBlockReuse: true,
      enableChunkedPrefill: true,
      windowSize: gpuBlocks * TPB,
      enableIterPerfStats: false,
      iterStatsMaxIterations: 0,
      returnPerfMetrics: false,
      perfMetricsMaxRequests: 0,
    },
    new TimingModel(profile, shape, TPB),
  );
}

/** Deterministic distinct token ids for a prompt (the engine only needs ids). */
function ids(seed: number, n: number, prefix?: Uint32Array): Uint32Array {
  const a = new Uint32Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    a[i] = x % 100000;
  }
  if (prefix) a.set(prefix.subarray(0, Math.min(prefix.length, n)));
  return a;
}

/** Run one request alone to completion, starting at `t`; returns its outcome and the end time. */
function runAlone(engine: Engine, id: number, tokens: Uint32Array, maxTokens: number, t: number): { out: RequestOutcome; end: number } {
  engine.enqueue({ id, tokens, maxTokens }, t);
  let out: RequestOutcome | undefined;
  for (;;) {
    const r = engine.step(t);
    if (!r) break;
    t = r.end;
    out ??= r.finished.find((f) => f.id === id);
  }
  return { out: out!, end: t };
}

const ttft = (o: RequestOutcome) => o.firstToken - o.arrival;

export interface OffloadVsRecomputeRow {
  promptTokens: number;
  recomputeTtftS: number;
  onboardTtftS: number;
  speedup: number;
  onboardGB: number;
}

/**
 * Llama-3.1-8B, one GPU: TTFT of a prompt computed from scratch vs. the same prompt whose KV
 * was offloaded to host memory and is onboarded. The GPU pool holds one prompt; a request with a
 * one-block prompt and as many generated tokens pushes the first prompt's blocks to the host and,
 * when it ends, leaves the GPU pool empty (its generated blocks are never stored), so the repeat
 * onboards into free blocks, as in a CPU-offload load with room on the GPU.
 */
export function offloadVsRecompute(profileName: string, lengths: readonly number[]): OffloadVsRecomputeRow[] {
  const profile = loadProfile(profileName);
  return lengths.map((L) => {
    const gpuBlocks = Math.ceil((L + 1) / TPB) + 1;
    const engine = engineFor(profile, 'llama-3.1-8b', 1, gpuBlocks, 4 * gpuBlocks);
    const A = ids(1, L);
    let t = 0;
    const cold = runAlone(engine, 1, A, 1, t);
    t = cold.end;
    // Needs every GPU block, so all of A's blocks go to the host.
    t = runAlone(engine, 2, ids(2, TPB), (gpuBlocks - 1) * TPB, t).end;
    const warm = runAlone(engine, 3, A, 1, t);
    return {
      promptTokens: L,
      recomputeTtftS: ttft(cold.out),
      onboardTtftS: ttft(warm.out),
      speedup: ttft(cold.out) / ttft(warm.out),
      onboardGB: (warm.out.onboardedBlocks * engine.timing.blockBytes) / 1e9,
    };
  });
}

export interface CaseTimes {
  recomputeS: number;
  onboardS: number;
  gpuHitS: number;
}

export interface ThreeCasesRow {
  promptTokens: number;
  suffixTokens: number;
  /** Tokens reused from the cache (onboarded or on the GPU); the engine computes the rest. */
  cachedTokens: number;
  onboardedBlocks: number;
  simulated: CaseTimes;
  measured: CaseTimes;
  /** simulated / measured − 1, per case. */
  error: CaseTimes;
}

/**
 * The probe's offload-vs-recompute cases (profile.measured.offload_vs_recompute) run through the
 * engine on the same profile, one request at a time: (a) recompute, the prompt on a cold cache;
 * (b) onboard, the prompt again after a request that needs every GPU block has pushed its blocks
 * to the host (as in offloadVsRecompute); (c) GPU hit, the prompt again right after the first.
 * The second prompt keeps the first L − S tokens and has S new ones (S = 1: the same prompt, whose
 * last token the engine computes again). max_num_tokens covers the whole prompt, so nothing is
 * chunked: the probe timed each case as one pass.
 */
export function threeCases(profileName: string, against?: { shape: string; rows: MeasuredOffloadVsRecompute[] }): ThreeCasesRow[] {
  const profile = loadProfile(profileName);
  const m = against ?? profile.measured?.offload_vs_recompute;
  if (!m) return [];
  return m.rows.map((row) => {
    const L = row.prompt_tokens, S = row.suffix_tokens, tpb = row.tokens_per_block;
    const A = ids(1, L);
    const B = S === 1 ? A : ids(3, L, A.subarray(0, L - S));
    const blocks = Math.ceil((L + 1) / tpb);
    const make = (gpuBlocks: number) => {
      const e = engineFor(profile, m.shape, 1, gpuBlocks, 4 * gpuBlocks, L + tpb);
      if (e.timing.tokensPerBlock !== tpb) throw new Error(`tokens_per_block ${tpb} expected`);
      return e;
    };
    // (a)
    const cold = runAlone(make(blocks + 1), 1, A, 1, 0).out;
    // (b): the GPU pool holds one prompt; request 2 needs all of it and leaves it empty.
    const eb = make(blocks + 1);
    let t = runAlone(eb, 1, A, 1, 0).end;
    t = runAlone(eb, 2, ids(2, tpb), blocks * tpb, t).end;
    const onboard = runAlone(eb, 3, B, 1, t).out;
    // (c): room for both prompts on the GPU.
    const ec = make(2 * blocks + 2);
    const hit = runAlone(ec, 3, B, 1, runAlone(ec, 1, A, 1, 0).end).out;
    const simulated = { recomputeS: ttft(cold), onboardS: ttft(onboard), gpuHitS: ttft(hit) };
    const measured = { recomputeS: row.recompute_s, onboardS: row.onboard_s, gpuHitS: row.gpu_hit_s };
    return {
      promptTokens: L,
      suffixTokens: S,
      cachedTokens: hit.cachedTokens,
      onboardedBlocks: onboard.onboardedBlocks,
      simulated,
      measured,
      error: {
        recomputeS: simulated.recomputeS / measured.recomputeS - 1,
        onboardS: simulated.onboardS / measured.onboardS - 1,
        gpuHitS: simulated.gpuHitS / measured.gpuHitS - 1,
      },
    };
  });
}

export interface MultiTurnRow {
  contextTokens: number;
  pcieTtftS: number;
  c2cTtftS: number;
  ratio: number;
  onboardedBlocksPerTurn: number;
}

/**
 * Llama-3-70B multi-turn chat, reuse-heavy: `conversations` conversations of `turns` turns each,
 * served round robin one request at a time. Each turn's prompt is the previous prompt plus the
 * answer (`answerTokens`) and a new user message (`userTokens`). The GPU pool holds about one
 * conversation, so between turns a conversation's blocks are offloaded to host memory and the
 * next turn onboards them. Returns mean TTFT over turns 2..N on each profile.
 */
export function multiTurn70b(opts: {
  contexts: readonly number[];
  conversations?: number;
  turns?: number;
  userTokens?: number;
  answerTokens?: number;
  tp?: number;
  /** Replaces gh200-c2c (e.g. with a slower GPU→host direction, for sensitivity). */
  c2cProfile?: Profile;
}): MultiTurnRow[] {
  const { conversations = 8, turns = 4, userTokens = 512, answerTokens = 128, tp = 4 } = opts;
  const pcie = loadProfile('h100-pcie-gen5');
  const c2c = opts.c2cProfile ?? loadProfile('gh200-c2c');
  return opts.contexts.map((C) => {
    const run = (profile: Profile) => {
      const longest = C + turns * (userTokens + answerTokens);
      const gpuBlocks = Math.ceil((longest + answerTokens) / TPB) + 2;
      const engine = engineFor(profile, 'llama-3-70b', tp, gpuBlocks, conversations * gpuBlocks * 2);
      const prompts = Array.from({ length: conversations }, (_, c) => ids(100 + c, C));
      let t = 0;
      let id = 1;
      const ttfts: number[] = [];
      let onboarded = 0;
      for (let turn = 0; turn < turns; turn++) {
        for (let c = 0; c < conversations; c++) {
          const p = prompts[c]!;
          const { out, end } = runAlone(engine, id++, p, answerTokens, t);
          t = end;
          if (turn > 0) {
            ttfts.push(ttft(out));
            onboarded += out.onboardedBlocks;
          }
          // Next turn: this prompt + the answer + a new user message (fresh ids).
          const next = ids(1000 * (turn + 1) + c, p.length + answerTokens + userTokens);
          next.set(p);
          prompts[c] = next;
        }
      }
      return { mean: ttfts.reduce((a, b) => a + b, 0) / ttfts.length, onboardPerTurn: onboarded / ttfts.length };
    };
    const a = run(pcie);
    const b = run(c2c);
    return { contextTokens: C, pcieTtftS: a.mean, c2cTtftS: b.mean, ratio: a.mean / b.mean, onboardedBlocksPerTurn: a.onboardPerTurn };
  });
}

/** A copy of `profile` with every GPU→host bandwidth scaled so its peak becomes `peakGBps`. */
export function withD2hPeak(profile: Profile, peakGBps: number): Profile {
  const p = structuredClone(profile);
  const peak = Math.max(...p.link.d2h.pinned.map(([, g]) => g));
  const scale = (t: Array<[number, number]>) => t.map(([b, g]) => [b, (g * peakGBps) / peak] as [number, number]);
  p.link.d2h.pinned = scale(p.link.d2h.pinned);
  if (p.link.block_copy) p.link.block_copy.d2h = scale(p.link.block_copy.d2h);
  p.name = `${profile.name}-d2h${peakGBps}`;
  return p;
}
