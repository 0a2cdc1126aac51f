import { parseOrThrow, ValidationError, WorkloadParams } from '@kvbench/common';
import {
  countWorkload,
  describeWorkload,
  generateWorkload,
  readAnyWorkloadFile,
  summarizeWorkload,
  writeWorkloadFile,
  type WorkloadFormat,
  type WorkloadStats,
} from '@kvbench/workload';
import type { Command } from '../command.js';
import { parseFlags, usage, type FlagSpecs } from '../args.js';
import { generateScenarioWorkload, workloadImportCommand } from './scenario-workload.js';

// Defaults come from the schema, so the CLI and the REST API cannot drift apart.
const defaults = WorkloadParams.parse({ contexts: [1] });

/** The original workload_generator.py flags, verbatim, plus --format. */
const generateFlags: FlagSpecs = {
  contexts: { type: 'int[]', required: true, help: 'Target context sizes in tokens, e.g. 32768 65536 131072' },
  'batches-per-context': { type: 'int', default: defaults.batches_per_context, help: 'Number of batches per context size' },
  'batch-sizes': { type: 'int[]', default: defaults.batch_sizes, help: 'Possible batch sizes to sample from' },
  'prompt-pool-size': { type: 'int', default: defaults.prompt_pool_size, help: 'Distinct prompts per context size (reused later)' },
  'reuse-start-batch': { type: 'int', default: defaults.reuse_start_batch, help: 'From this batch on, reuse pool prompts 70% of the time' },
  'delay-ms': { type: 'float', default: defaults.delay_ms, help: 'Scheduled pause before each batch, in ms' },
  seed: { type: 'int', default: defaults.seed, help: 'Random seed for reproducibility' },
  out: { type: 'string', default: 'workload.json', help: 'Output file' },
  format: { type: 'string', default: 'native', help: "'native' (compact, prompts stored once) or 'seed' (the original list format)" },
};

const GENERATE_SUMMARY = 'Generate a workload file (exact cl100k_base token counts)';
const SHOW_SUMMARY = 'Print the summary of a workload file (native or original format)';

const wantsHelp = (argv: string[]) => argv.includes('--help') || argv.includes('-h');

/** The value of --kind and the argv without it, or null when absent. */
function kindOf(argv: string[]): { value: string; rest: string[] } | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--kind') {
      if (i + 1 >= argv.length) throw new ValidationError('flag --kind needs a value', 'kind');
      return { value: argv[i + 1]!, rest: [...argv.slice(0, i), ...argv.slice(i + 2)] };
    }
    if (a.startsWith('--kind=')) return { value: a.slice(7), rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return null;
}

function formatOf(value: unknown): WorkloadFormat {
  if (value === 'native' || value === 'seed') return value;
  throw new ValidationError(`--format: '${String(value)}' is not one of native, seed`, 'format');
}

function mega(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

/** One line: what a user checks after generating. */
export function summaryLine(s: Pick<WorkloadStats, 'prompts' | 'requests' | 'request_tokens' | 'prompt_tokens' | 'id'>, bytes: number): string {
  return `${s.prompts} prompts, ${s.requests} requests, ${mega(s.request_tokens)} request tokens (${mega(s.prompt_tokens)} distinct), ${mega(bytes)}B, id ${s.id}`;
}

export const workloadGenerateCommand: Command = {
  names: [['workload', 'generate'], ['workload_generator.py'], ['workload_generator']],
  summary: GENERATE_SUMMARY,
  async run(argv) {
    // --kind multiturn|docqa: a scenario of token-id segments; legacy (the default) keeps the original flags.
    const kind = kindOf(argv);
    if (kind !== null && kind.value !== 'legacy') return generateScenarioWorkload(kind.value, kind.rest);
    if (kind !== null) argv = kind.rest;
    if (wantsHelp(argv)) {
      console.log(usage('workload generate', GENERATE_SUMMARY, generateFlags) + '\n\nOther kinds: --kind multiturn | docqa (kvbench workload generate --kind multiturn --help)');
      return 0;
    }
    const { flags, positionals } = parseFlags(argv, generateFlags);
    if (positionals.length > 0) throw new ValidationError(`unexpected argument '${positionals[0]}'`, '(root)');
    const format = formatOf(flags.format);
    const params = parseOrThrow(
      WorkloadParams,
      {
        contexts: flags.contexts,
        batches_per_context: flags['batches-per-context'],
        batch_sizes: flags['batch-sizes'],
        prompt_pool_size: flags['prompt-pool-size'],
        reuse_start_batch: flags['reuse-start-batch'],
        delay_ms: flags['delay-ms'],
        seed: flags.seed,
      },
      'workload parameters',
    );
    const doc = generateWorkload(params);
    const out = String(flags.out);
    const { bytes, id } = await writeWorkloadFile(out, doc, format);
    // The id and size come from the write itself: no second serialization.
    console.log(`[workload_generator] wrote ${doc.batches.length} batches to ${out} (${format}): ${summaryLine({ ...countWorkload(doc), id }, bytes)}`);
    return 0;
  },
};

export const workloadShowCommand: Command = {
  names: [['workload', 'show']],
  summary: SHOW_SUMMARY,
  async run(argv) {
    if (wantsHelp(argv) || argv.length !== 1) {
      console.log(`usage: kvbench workload show <file>\n\n${SHOW_SUMMARY}`);
      return wantsHelp(argv) ? 0 : 2;
    }
    const doc = await readAnyWorkloadFile(argv[0]!);
    const stats = summarizeWorkload(doc);
    console.log(summaryLine(stats, stats.bytes));
    console.log(JSON.stringify(describeWorkload(doc), null, 2));
    return 0;
  },
};

export const workloadCommands: Command[] = [workloadGenerateCommand, workloadShowCommand, workloadImportCommand];
