import { basename } from 'node:path';
import { readFile } from 'node:fs/promises';
import { DEFAULT_TOKEN_RANGE, NotFoundError, ValidationError, type LengthSpec, type ScenarioWorkload } from '@kvbench/common';
import { countWorkload, generateDocqa, generateMultiturn, importMooncake, writeWorkloadFile } from '@kvbench/workload';
import type { Command } from '../command.js';
import { parseFlags, usage, type FlagSpecs } from '../args.js';
import { summaryLine } from './workload.js';

const tokenFlags: FlagSpecs = {
  'token-low': { type: 'int', default: DEFAULT_TOKEN_RANGE.low, help: 'lowest token id drawn (avoids the special tokens of Llama, Mistral, Qwen, cl100k)' },
  'token-high': { type: 'int', default: DEFAULT_TOKEN_RANGE.high, help: 'token ids are drawn below this' },
  seed: { type: 'int', default: 42, help: 'random seed (same seed, same bytes)' },
  out: { type: 'string', default: 'workload.json', help: 'output file' },
};
const formatFlag: FlagSpecs = { format: { type: 'string', default: 'native', help: "'native' (the only format that holds token ids)" } };

const LENGTH_HELP = 'N, uniform:MIN:MAX or lognormal:MEAN:SIGMA[:MAX]';

export const multiturnFlags: FlagSpecs = {
  kind: { type: 'string', help: 'multiturn' },
  sessions: { type: 'int', required: true, help: 'conversations' },
  turns: { type: 'string', required: true, help: `turns per session (${LENGTH_HELP})` },
  'shared-prefix-tokens': { type: 'int', default: 0, help: 'system prompt shared by every session (P)' },
  'session-context-tokens': { type: 'string', default: '0', help: `each session's own context (C; ${LENGTH_HELP})` },
  'turn-tokens': { type: 'string', required: true, help: `new user tokens per turn (U; ${LENGTH_HELP})` },
  'answer-tokens': { type: 'int', required: true, help: 'tokens generated per turn, and the canned answer kept in the history (A)' },
  'active-sessions': { type: 'int', required: true, help: 'sessions in flight at most (K)' },
  'think-time-ms': { type: 'float', default: 0, help: "pause between a turn's completion and the session's next turn (D)" },
  ...tokenFlags,
  ...formatFlag,
};

export const docqaFlags: FlagSpecs = {
  kind: { type: 'string', help: 'docqa' },
  documents: { type: 'int', required: true, help: 'documents (N)' },
  'document-tokens': { type: 'int', required: true, help: 'tokens per document (L)' },
  questions: { type: 'int', default: 1, help: 'questions about each document per round (Q)' },
  'question-tokens': { type: 'int', required: true, help: 'tokens per question (q)' },
  order: { type: 'string', default: 'tile', help: 'tile (LRU worst case), interleave (best) or random' },
  rounds: { type: 'int', default: 2, help: 'rounds over the documents (the first warms the cache)' },
  'answer-tokens': { type: 'int', help: "tokens generated per request (default: the run's --output_tokens)" },
  arrival: { type: 'string', default: 'closed', help: 'closed (with --max-concurrency), poisson or gamma (with --rate)' },
  rate: { type: 'float', help: 'requests per second (poisson, gamma)' },
  burstiness: { type: 'float', default: 1, help: 'gamma shape (1 is Poisson; vLLM --burstiness)' },
  'max-concurrency': { type: 'int', help: 'requests in flight at most' },
  ...tokenFlags,
  ...formatFlag,
};

/** `5`, `uniform:3:7`, `lognormal:2000:0.5[:8000]`. */
export function parseLength(flag: string, value: unknown): LengthSpec {
  const s = String(value);
  const parts = s.split(':');
  const num = (v: string | undefined) => {
    const n = Number(v);
    if (v === undefined || v.trim() === '' || !Number.isFinite(n)) throw new ValidationError(`--${flag}: '${s}' is not ${LENGTH_HELP}`, flag.replace(/-/g, '_'));
    return n;
  };
  if (parts.length === 1) return num(parts[0]);
  if (parts[0] === 'uniform' && parts.length === 3) return { dist: 'uniform', min: num(parts[1]), max: num(parts[2]) };
  if (parts[0] === 'lognormal' && (parts.length === 3 || parts.length === 4)) {
    return { dist: 'lognormal', mean: num(parts[1]), sigma: num(parts[2]), ...(parts[3] !== undefined ? { max: num(parts[3]) } : {}) };
  }
  throw new ValidationError(`--${flag}: '${s}' is not ${LENGTH_HELP}`, flag.replace(/-/g, '_'));
}

/** The CLI's field names are the flags: `--turns` for the schema's `turns`. */
function withFlagNames<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ValidationError && err.field !== '(root)') {
      const flag = `--${err.field.split('.')[0]!.replace(/_/g, '-')}`;
      throw new ValidationError(`${flag}: ${err.message}`, err.field, { cause: err });
    }
    throw err;
  }
}

export function multiturnFromFlags(f: Record<string, unknown>): ScenarioWorkload {
  return withFlagNames(() =>
    generateMultiturn({
      sessions: f.sessions as number,
      turns: parseLength('turns', f.turns),
      shared_prefix_tokens: f['shared-prefix-tokens'] as number,
      session_context_tokens: parseLength('session-context-tokens', f['session-context-tokens']),
      turn_tokens: parseLength('turn-tokens', f['turn-tokens']),
      answer_tokens: f['answer-tokens'] as number,
      active_sessions: f['active-sessions'] as number,
      think_time_ms: f['think-time-ms'] as number,
      seed: f.seed as number,
      token_low: f['token-low'] as number,
      token_high: f['token-high'] as number,
    }),
  );
}

export function docqaFromFlags(f: Record<string, unknown>): ScenarioWorkload {
  return withFlagNames(() =>
    generateDocqa({
      documents: f.documents as number,
      document_tokens: f['document-tokens'] as number,
      questions: f.questions as number,
      question_tokens: f['question-tokens'] as number,
      order: f.order as 'tile',
      rounds: f.rounds as number,
      ...(f['answer-tokens'] !== undefined ? { answer_tokens: f['answer-tokens'] as number } : {}),
      arrival: f.arrival as 'closed',
      ...(f.rate !== undefined ? { rate: f.rate as number } : {}),
      burstiness: f.burstiness as number,
      ...(f['max-concurrency'] !== undefined ? { max_concurrency: f['max-concurrency'] as number } : {}),
      seed: f.seed as number,
      token_low: f['token-low'] as number,
      token_high: f['token-high'] as number,
    }),
  );
}

export const SCENARIO_KINDS: Record<string, { flags: FlagSpecs; build(f: Record<string, unknown>): ScenarioWorkload; summary: string }> = {
  multiturn: { flags: multiturnFlags, build: multiturnFromFlags, summary: 'Multi-turn sessions: every turn resends the history (token ids)' },
  docqa: { flags: docqaFlags, build: docqaFromFlags, summary: 'Shared documents, each request a document and a question of its own (token ids)' },
};

async function writeAndReport(doc: ScenarioWorkload, out: string, tag: string, format: unknown = 'native'): Promise<void> {
  if (format !== 'native' && format !== 'seed') throw new ValidationError(`--format: '${String(format)}' is not one of native, seed`, 'format');
  const { bytes, id } = await writeWorkloadFile(out, doc, format);
  console.log(`[${tag}] wrote a ${doc.kind} workload to ${out}: ${summaryLine({ ...countWorkload(doc), id }, bytes)}`);
  const s = doc.params['sampling'] as { unit?: string; roots?: number; trees?: number; trees_kept?: number; lines?: number; lines_kept?: number } | undefined;
  if (s && s.trees !== undefined && s.trees_kept !== undefined) {
    const what = String(s.unit ?? '').startsWith('root') ? 'roots' : 'prefix trees';
    console.log(`[${tag}] sampling kept ${s.trees_kept} of ${s.trees} ${what} (${s.lines_kept} of ${s.lines} lines; the trace has ${s.roots} root(s)): ${s.unit}`);
  }
}

/** `kvbench workload generate --kind multiturn|docqa …` (called by `workload generate`). */
export async function generateScenarioWorkload(kind: string, argv: string[]): Promise<number> {
  const k = SCENARIO_KINDS[kind];
  if (!k) throw new ValidationError(`--kind: '${kind}' is not one of legacy, ${Object.keys(SCENARIO_KINDS).join(', ')}`, 'kind');
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage(`workload generate --kind ${kind}`, k.summary, k.flags));
    return 0;
  }
  const { flags, positionals } = parseFlags(argv, k.flags);
  if (positionals.length > 0) throw new ValidationError(`unexpected argument '${positionals[0]}'`, '(root)');
  await writeAndReport(k.build(flags), String(flags.out), 'workload', flags.format);
  return 0;
}

const importFlags: FlagSpecs = {
  format: { type: 'string', required: true, help: 'trace format: mooncake' },
  'block-tokens': { type: 'int', default: 512, help: 'tokens per hash id (Mooncake traces: 512)' },
  'time-scale': { type: 'float', default: 1, help: "arrival = trace timestamp × this (ms from the first kept line)" },
  'sample-roots': { type: 'float', default: 1, help: 'keep this share of prefix trees (grouped by first hash id), whole' },
  'max-input-tokens': { type: 'int', help: 'drop requests with more input tokens' },
  limit: { type: 'int', help: 'keep at most this many requests' },
  'max-concurrency': { type: 'int', help: 'requests in flight at most' },
  ...tokenFlags,
};
const IMPORT_SUMMARY = 'Import a trace as a workload of token ids (Mooncake JSONL)';

export const workloadImportCommand: Command = {
  names: [['workload', 'import']],
  summary: IMPORT_SUMMARY,
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(usage('workload import --format mooncake <trace.jsonl>', IMPORT_SUMMARY, importFlags));
      return 0;
    }
    const { flags: f, positionals } = parseFlags(argv, importFlags);
    if (f.format !== 'mooncake') throw new ValidationError(`--format: '${String(f.format)}' is not one of mooncake`, 'format');
    if (positionals.length !== 1) throw new ValidationError('give exactly one trace file', '(root)');
    const path = positionals[0]!;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError('trace file', path, { cause: err });
      throw err;
    }
    let doc: ScenarioWorkload;
    try {
      doc = importMooncake(text, {
        blockTokens: f['block-tokens'] as number,
        timeScale: f['time-scale'] as number,
        sampleRoots: f['sample-roots'] as number,
        ...(f['max-input-tokens'] !== undefined ? { maxInputTokens: f['max-input-tokens'] as number } : {}),
        ...(f.limit !== undefined ? { limit: f.limit as number } : {}),
        ...(f['max-concurrency'] !== undefined ? { maxConcurrency: f['max-concurrency'] as number } : {}),
        seed: f.seed as number,
        source: basename(path),
        tokenLow: f['token-low'] as number,
        tokenHigh: f['token-high'] as number,
      });
    } catch (err) {
      if (err instanceof ValidationError) throw new ValidationError(`${path}: ${err.message}`, err.field, { cause: err });
      throw err;
    }
    await writeAndReport(doc, String(f.out), 'workload import');
    return 0;
  },
};
