import { writeFile } from 'node:fs/promises';
import { EngineKind, parseOrThrow, ValidationError, type RunResult } from '@kvbench/common';
import { fmtMs, fmtPct, renderSweepTable, sweepReport } from '@kvbench/report';
import type { Command } from '../command.js';
import { parseFlags, usage, type FlagSpecs } from '../args.js';
import { mergeRunIntoResultsFile } from '../results-file.js';
import {
  capacitySweep, DEFAULT_CAPACITY_POINTS, DEFAULT_OFFLOAD_LENGTHS, inProcessRunner, newSweepId, offloadSweep, servicesRunner,
  type PointRunner, type SweepRunSpec, type SweepSystem,
} from '../sweep.js';
import { benchFlags, clockFlag, overridesFor } from './bench.js';

/** The bench flags a sweep shares (engine, model, overrides per system), without the single-run ones. */
const shared: FlagSpecs = Object.fromEntries(
  Object.entries(benchFlags).filter(([k]) => !['system_label', 'config_module', 'workload_json', 'notes'].includes(k)),
);
shared.output_json = { type: 'string', default: 'sweep_results.json', help: "every run's result, merged under runs.<system_label>" };

const common: FlagSpecs = {
  systems: { type: 'string[]', default: ['pcie', 'c2c'], help: 'system labels (config preset config_<label>, overrides --<label>_*)' },
  out: { type: 'string', default: 'sweep.json', help: 'the sweep: every point, system and figure' },
  seed: { type: 'int', default: 42, help: 'workload seed' },
  sweep_id: { type: 'string', help: 'sweep id (default: a new one)' },
  token: { type: 'string', help: 'with --api: bearer token' },
  ...shared,
};

const capacityFlags: FlagSpecs = {
  points: { type: 'string[]', default: DEFAULT_CAPACITY_POINTS, help: 'working sets: N tokens, xG (GPU pool) or xGH (GPU pool + host cache) of --reference' },
  reference: { type: 'string', help: 'system whose G and H the ratio points use (default: the first of --systems)' },
  kv_bytes_per_token: { type: 'int', default: 131072, help: "the model's KV bytes per token, for H = host cache bytes / this (131072: Llama-3.1-8B, bf16)" },
  document_tokens: { type: 'int', default: 4096, help: 'tokens per document (L)' },
  question_tokens: { type: 'int', default: 64, help: 'tokens per question' },
  questions: { type: 'int', default: 1, help: 'questions per document per round' },
  rounds: { type: 'int', default: 2, help: 'rounds (the first warms the cache; figures come from the later ones)' },
  max_concurrency: { type: 'int', default: 1, help: 'users sending back to back (closed loop); 1 keeps batching out of the tier figures' },
  max_working_set_tokens: { type: 'int', default: 64 * 1024 * 1024, help: 'refuse larger working sets' },
  ...common,
};

const offloadFlags: FlagSpecs = {
  lengths: { type: 'int[]', default: DEFAULT_OFFLOAD_LENGTHS, help: 'prompt lengths in tokens' },
  unaligned_offset: { type: 'int', default: 8, help: 'also run each length + this (a partial last block); 0: none' },
  replays: { type: 'int', default: 3, help: 'replays per point and mode (each its own run); the report gives their median and interval' },
  eviction_factor: { type: 'float', default: 1.25, help: 'eviction traffic, as a multiple of the largest GPU pool' },
  ...common,
};

function spec(f: Record<string, unknown>): SweepRunSpec {
  const options: Record<string, string | number | boolean> = {};
  if (f.time_scale !== undefined) options.time_scale = f.time_scale as number;
  if (f.profile !== undefined) options.profile = f.profile as string;
  // A sweep asks what the modelled hardware does: on the simulator, the virtual clock unless told otherwise.
  const clock = clockFlag(f.clock) ?? (f.engine === 'sim' ? 'virtual' : undefined);
  if (clock !== undefined) options.clock = clock;
  return {
    model: String(f.model),
    engine: {
      kind: parseOrThrow(EngineKind, f.engine, '--engine'),
      ...(f.engine_url ? { url: f.engine_url as string } : {}),
      ...(f.launch_command ? { launch_command: f.launch_command as string[] } : {}),
      options,
    },
    max_batch_size: f.max_batch_size as number,
    max_seq_len: f.max_seq_len as number,
    output_tokens: f.output_tokens as number,
    temperature: f.temperature as number,
    top_p: f.top_p as number,
    notes: '',
  };
}

function setup(f: Record<string, unknown>, kind: string) {
  const labels = f.systems as string[];
  const systems: SweepSystem[] = labels.map((label) => ({ label, configModule: `config_${label}`, overrides: overridesFor(label, f, undefined, labels) }));
  if (systems.length === 0) throw new ValidationError('--systems: give at least one', 'systems');
  const s = spec(f);
  let runner: PointRunner;
  if (f.api) {
    if (!f.aggregator) throw new ValidationError('--api needs --aggregator (the sweep reads every run back)', 'aggregator');
    runner = servicesRunner({ ...s, notes: `sweep ${kind}` }, String(f.api), String(f.aggregator), f.token as string | undefined);
  } else runner = inProcessRunner({ ...s, notes: `sweep ${kind}` });
  const sweepId = (f.sweep_id as string | undefined) ?? newSweepId(kind);
  const onRun = async (label: string, r: RunResult) => {
    await mergeRunIntoResultsFile(String(f.output_json), label, r);
  };
  return { systems, runner, sweepId, onRun };
}

function table(header: string[], rows: string[][]): string {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(w[i]!)).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

const CAPACITY_SUMMARY = 'Capacity sweep: docqa working sets across the GPU pool and the host cache (tile order), every system';
const OFFLOAD_SUMMARY = 'Offload vs recompute: per prompt length, a cold request, eviction traffic, the replay; host cache on and 0';

export const sweepCapacityCommand: Command = {
  names: [['sweep', 'capacity']],
  summary: CAPACITY_SUMMARY,
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) return console.log(usage('sweep capacity', CAPACITY_SUMMARY, capacityFlags)), 0;
    const { flags: f } = parseFlags(argv, capacityFlags);
    const { systems, runner, sweepId, onRun } = setup(f, 'capacity');
    const refLabel = (f.reference as string | undefined) ?? systems[0]!.label;
    const reference = systems.find((s) => s.label === refLabel);
    if (!reference) throw new ValidationError(`--reference: '${refLabel}' is not one of --systems`, 'reference');
    const points = await capacitySweep(
      {
        sweepId, systems, reference, points: f.points as string[], kvBytesPerToken: f.kv_bytes_per_token as number,
        documentTokens: f.document_tokens as number, questionTokens: f.question_tokens as number, questions: f.questions as number,
        rounds: f.rounds as number, maxConcurrency: f.max_concurrency as number, seed: f.seed as number, maxWorkingSetTokens: f.max_working_set_tokens as number,
        outputTokens: f.output_tokens as number,
      },
      runner,
      onRun,
    );
    await writeFile(String(f.out), JSON.stringify({ schema: 'kvbench.sweep', kind: 'capacity', sweep_id: sweepId, points }, null, 2) + '\n');
    const rows = points.flatMap((p) => systems.map((s) => {
      const x = p.systems[s.label]!;
      return [p.point, String(p.working_set_tokens), s.label, p.tier[s.label]!, fmtPct(x.hit_rate), fmtPct(x.gpu_hit_rate), fmtMs(x.ttft_p50_s)];
    }));
    console.log(table(['point', 'working set', 'system', 'tier', 'hit rate', 'GPU hit rate', 'TTFT p50 ms (later rounds)'], rows));
    console.log(`sweep ${sweepId}: ${f.out}; runs merged into ${f.output_json}`);
    console.log(`paired comparison of a point: kvbench report ${f.output_json} --workload_id ${points[0]?.workload_id ?? '<id>'} (each point's id is in ${f.out})`);
    return 0;
  },
};

export const sweepOffloadCommand: Command = {
  names: [['sweep', 'offload']],
  summary: OFFLOAD_SUMMARY,
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) return console.log(usage('sweep offload', OFFLOAD_SUMMARY, offloadFlags)), 0;
    const { flags: f } = parseFlags(argv, offloadFlags);
    const { systems, runner, sweepId, onRun } = setup(f, 'offload');
    const runs: RunResult[] = [];
    const points = await offloadSweep(
      {
        sweepId, systems, lengths: f.lengths as number[], unalignedOffset: f.unaligned_offset as number, evictionFactor: f.eviction_factor as number,
        outputTokens: f.output_tokens as number, maxSeqLen: f.max_seq_len as number, seed: f.seed as number, replays: f.replays as number,
      },
      runner,
      (label, r) => {
        runs.push(r);
        return onRun(label, r);
      },
    );
    // The table is the report's (medians, intervals, flags, the ratio column): one way through the data.
    const report = sweepReport(runs, { sweepId }).offload;
    await writeFile(String(f.out), JSON.stringify({ schema: 'kvbench.sweep', kind: 'offload', sweep_id: sweepId, replays: f.replays, points, report }, null, 2) + '\n');
    console.log(renderSweepTable({ capacity: null, offload: report }));
    console.log(`sweep ${sweepId}: ${f.out}; runs merged into ${f.output_json}`);
    return 0;
  },
};

export const sweepCommands: Command[] = [sweepCapacityCommand, sweepOffloadCommand];
