import seedrandom from 'seedrandom';
import { z } from 'zod';
import { DEFAULT_TOKEN_RANGE, describeZodError, ValidationError, type ScenarioWorkload } from '@kvbench/common';
import { ScenarioBuilder } from './builder.js';

/** One line of a Mooncake trace (kvcache-ai/Mooncake FAST25-release/traces/*.jsonl). */
const MooncakeLine = z
  .object({
    timestamp: z.number().nonnegative(),
    input_length: z.number().int().positive(),
    output_length: z.number().int().nonnegative(),
    hash_ids: z.array(z.number().int().nonnegative()).min(1),
  })
  .loose();

export interface MooncakeImportOptions {
  /** Tokens per hash id (Mooncake's traces: 512). */
  blockTokens: number;
  /** Arrival = (timestamp − first kept timestamp) × timeScale ms. */
  timeScale?: number;
  /**
   * Keep this share of prefix trees, whole, chosen by a seeded hash. A tree is the lines below the
   * trunk their root shares with every other line of that root: in a trace whose every line starts
   * with the same system-prompt block (one root, e.g. Mooncake's conversation trace) the trees are
   * the conversations under it, not the one root.
   */
  sampleRoots?: number;
  /** Drop requests with more input tokens. */
  maxInputTokens?: number;
  /** Keep at most this many requests (after sampling, in trace order). */
  limit?: number;
  seed?: number;
  /** Where the trace came from (its file name), recorded in params. */
  source?: string;
  maxConcurrency?: number;
  tokenLow?: number;
  tokenHigh?: number;
}

/**
 * A Mooncake trace as a scenario: each hash id becomes one segment of blockTokens token ids (equal
 * ids, equal blocks; the partial last block is a prefix of its id's full block), each line a
 * request released at its timestamp (ms), generating output_length tokens. Sub-sampling keeps
 * whole prefix trees, so the reuse left in the sample is the trace's own, not one cut short by
 * sampling. A line whose ceil(input_length / blockTokens) is not its number of hash ids is refused
 * with its line number (as GuideLLM validates).
 */
export function importMooncake(text: string, o: MooncakeImportOptions): ScenarioWorkload {
  const blockTokens = o.blockTokens;
  if (!Number.isInteger(blockTokens) || blockTokens <= 0) throw new ValidationError('block_tokens: must be a positive integer', 'block_tokens');
  const sample = o.sampleRoots ?? 1;
  if (!(sample > 0 && sample <= 1)) throw new ValidationError('sample_roots: must be in (0, 1]', 'sample_roots');
  const timeScale = o.timeScale ?? 1;
  if (!(timeScale >= 0)) throw new ValidationError('time_scale: must be 0 or more', 'time_scale');
  const seed = o.seed ?? 42;
  const lines = parseLines(text, blockTokens);
  const roots = new Set(lines.map((l) => l.hash_ids[0]!)).size;
  // Whole roots while there are enough of them to sample; a trace of few roots (Mooncake's
  // conversation trace has one: every line starts with the same system-prompt block) is sampled
  // by the trees below each root's shared trunk (its conversations) instead.
  const byRoot = roots * sample >= MIN_SAMPLED_ROOTS || sample >= 1;
  const groupOf = byRoot ? new Map(lines.map((l) => [l.line, String(l.hash_ids[0]!)])) : prefixTrees(lines);
  const groups = new Set(groupOf.values());
  const keepGroup = new Map<string, boolean>();
  let tooLong = 0;
  const sampled = lines.filter((l) => {
    const g = groupOf.get(l.line)!;
    let keep = keepGroup.get(g);
    if (keep === undefined) keepGroup.set(g, (keep = sample >= 1 || seedrandom(`kvbench/trace-roots/${seed}/${g}`)() < sample));
    return keep;
  });
  const kept = sampled.filter((l) => {
    if (o.maxInputTokens !== undefined && l.input_length > o.maxInputTokens) return (tooLong++, false);
    return true;
  });
  const chosen = o.limit !== undefined ? kept.slice(0, o.limit) : kept;
  const groupsKept = [...keepGroup.values()].filter(Boolean).length;
  const sampling = {
    unit: byRoot
      ? 'root: the lines that start with the same hash id, kept whole'
      : `prefix tree below the shared trunk: ${roots} root(s) are too few to sample a share of ${sample} (fewer than ${MIN_SAMPLED_ROOTS} expected), so each root's lines are grouped by their first hash id past the blocks every line of the root shares (a conversation under a shared system prompt), kept whole`,
    roots,
    trees: groups.size,
    trees_kept: groupsKept,
    lines: lines.length,
    lines_sampled: sampled.length,
    dropped_over_max_input_tokens: tooLong,
    dropped_by_limit: kept.length - chosen.length,
    lines_kept: chosen.length,
  };
  if (chosen.length === 0) {
    const why =
      sampled.length === 0
        ? `sampling kept ${groupsKept} of the trace's ${groups.size} prefix trees (share ${sample}, seed ${seed}); a larger --sample-roots or another --seed keeps some`
        : `all ${sampled.length} sampled lines are longer than --max-input-tokens ${o.maxInputTokens}`;
    throw new ValidationError(`trace: no request left after sampling and filters: ${why}`, sampled.length === 0 ? 'sample_roots' : 'max_input_tokens');
  }

  const params = {
    format: 'mooncake',
    block_tokens: blockTokens,
    time_scale: timeScale,
    sample_roots: sample,
    max_input_tokens: o.maxInputTokens ?? null,
    limit: o.limit ?? null,
    seed,
    lines: lines.length,
    ...(o.source !== undefined ? { source: o.source } : {}),
    sampling,
  };
  const b = new ScenarioBuilder({
    kind: 'trace',
    params,
    max_concurrency: o.maxConcurrency ?? null,
    token_space: { seed, low: o.tokenLow ?? DEFAULT_TOKEN_RANGE.low, high: o.tokenHigh ?? DEFAULT_TOKEN_RANGE.high },
  });
  const t0 = chosen[0]!.timestamp;
  const w = String(lines.length).length;
  for (const l of chosen) {
    const id = `L${String(l.line).padStart(w, '0')}`;
    const refs = l.hash_ids.map((h, i) => {
      const segment = b.segment(`h${h}`, blockTokens);
      const rest = l.input_length - i * blockTokens;
      return rest < blockTokens ? { segment, tokens: rest } : { segment };
    });
    b.request({
      request_id: id,
      prompt: b.prompt(id, refs),
      release: { type: 'at', at_ms: (l.timestamp - t0) * timeScale },
      output_tokens: Math.max(1, l.output_length),
      tags: { kind: 'trace', trace_line: l.line, hash_ids: l.hash_ids, trace_block_tokens: blockTokens },
    });
  }
  return b.build();
}

type Line = z.infer<typeof MooncakeLine> & { line: number };

/** Below this many roots expected in the sample, roots are too coarse a unit: sample the trees under them. */
export const MIN_SAMPLED_ROOTS = 10;

/**
 * Each line's prefix tree, as a key. Lines are grouped by root (first hash id); the trunk of a root
 * is the longest run of hash ids every one of its lines begins with (hash ids are prefix hashes, so
 * lines sharing an id share everything before it); a line's tree is its first id past the trunk.
 * A root whose lines go on in one branch past the trunk (one conversation) is one tree; otherwise
 * each branch is a tree, and the lines that end on the trunk form one more.
 */
function prefixTrees(lines: readonly Line[]): Map<number, string> {
  const byRoot = new Map<number, Line[]>();
  for (const l of lines) {
    const r = l.hash_ids[0]!;
    let list = byRoot.get(r);
    if (!list) byRoot.set(r, (list = []));
    list.push(l);
  }
  const out = new Map<number, string>();
  for (const [root, ls] of byRoot) {
    // The trunk: how many leading ids every line of the root shares (at least the root itself).
    let trunk = ls[0]!.hash_ids.length;
    const first = ls[0]!.hash_ids;
    for (const l of ls) {
      let k = 0;
      while (k < trunk && k < l.hash_ids.length && l.hash_ids[k] === first[k]) k++;
      trunk = Math.max(1, k);
    }
    // One branch past the trunk (a conversation's turns, each extending the last): the root is one tree.
    const branches = new Set(ls.filter((l) => l.hash_ids.length > trunk).map((l) => l.hash_ids[trunk]!));
    for (const l of ls) out.set(l.line, branches.size <= 1 ? `${root}` : l.hash_ids.length > trunk ? `${root}/${l.hash_ids[trunk]}` : `${root}/trunk`);
  }
  return out;
}

function parseLines(text: string, blockTokens: number): Line[] {
  const out: Line[] = [];
  const raw = text.split('\n');
  let last = -Infinity;
  raw.forEach((s, i) => {
    const n = i + 1;
    if (s.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(s);
    } catch (err) {
      throw new ValidationError(`trace line ${n}: not JSON (${(err as Error).message})`, `line ${n}`, { cause: err });
    }
    const r = MooncakeLine.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      const field = issue.path.length ? `line ${n}.${issue.path.map(String).join('.')}` : `line ${n}`;
      throw new ValidationError(`trace line ${n}: ${describeZodError(r.error)}`, field, { cause: r.error });
    }
    const l = r.data;
    const blocks = Math.ceil(l.input_length / blockTokens);
    if (blocks !== l.hash_ids.length) {
      throw new ValidationError(
        `trace line ${n}: input_length ${l.input_length} is ${blocks} blocks of ${blockTokens} tokens but hash_ids has ${l.hash_ids.length}`,
        `line ${n}.hash_ids`,
      );
    }
    if (l.timestamp < last) throw new ValidationError(`trace line ${n}: timestamp ${l.timestamp} is before the previous line's ${last}`, `line ${n}.timestamp`);
    last = l.timestamp;
    out.push({ ...l, line: n });
  });
  if (out.length === 0) throw new ValidationError('trace: no lines', '(root)');
  return out;
}
