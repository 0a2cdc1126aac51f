import {
  DEFAULT_OUTPUT_TOKENS,
  EngineKind,
  Job,
  consoleLogger,
  newRunId,
  ValidationError,
  checkRunPlan,
  parseOrThrow,
  type KvOverrides,
  type RunEvent,
  telemetryCsv,
  coarsenTelemetry,
} from '@kvbench/common';
import { writeFileSync } from 'node:fs';
import { readAnyWorkloadFile, requestCount, workloadId } from '@kvbench/workload';
import { runBenchmark } from '@kvbench/runner';
import { runTelemetry } from '@kvbench/telemetry';
import { engineAgentOptions } from '../engines.js';
import { parseFlags, usage, type FlagSpecs } from '../args.js';
import type { Command } from '../command.js';
import { checkResultsFile, reportSaved, saveRun } from '../results-file.js';
import { compareRuns, renderRunSummaryTable } from '@kvbench/report';
import { Progress } from '../progress.js';
import { submitThroughServices } from '../submit.js';
import { bearerToken } from '../token.js';

const OVERRIDE_KEYS = ['gpu_kv_max_tokens', 'tokens_per_block', 'host_cache_gb', 'enable_reuse'] as const;
const overrideFlags = (prefix: string): FlagSpecs =>
  Object.fromEntries(
    OVERRIDE_KEYS.map((k) => [
      `${prefix}${k}`,
      {
        type: k === 'enable_reuse' ? 'bool' : k === 'host_cache_gb' ? 'float' : 'int',
        help: `${prefix ? prefix.slice(0, -1).toUpperCase() + ' ' : ''}override of ${k}${prefix ? ` (applies when --system_label is ${prefix.slice(0, -1)})` : ''}`,
      },
    ]),
  ) as FlagSpecs;

export const benchFlags: FlagSpecs = {
  model: { type: 'string', required: true, help: 'model path or id (TensorRT-LLM / engine model name)' },
  config_module: { type: 'string', help: 'config preset: config_pcie or config_c2c (default: config_<system_label>)' },
  system_label: { type: 'string', required: true, help: 'system label: pcie, c2c or your own' },
  workload_json: { type: 'string', required: true, help: 'workload file (native or original format)' },
  output_json: { type: 'string', default: 'benchmark_results.json', help: 'results file; runs are merged under runs.<system_label>' },
  max_batch_size: { type: 'int', default: 32, help: 'maximum concurrent requests (and engine max batch size)' },
  max_seq_len: { type: 'int', default: 131072, help: 'engine maximum sequence length (not the generation length)' },
  output_tokens: { type: 'int', default: DEFAULT_OUTPUT_TOKENS, help: 'tokens generated per request (ignore_eos)' },
  temperature: { type: 'float', default: 0.0, help: 'sampling temperature' },
  top_p: { type: 'float', default: 1.0, help: 'nucleus sampling top_p' },
  notes: { type: 'string', default: '', help: 'free-form notes stored in run_meta' },
  engine: { type: 'string', default: 'sim', help: 'engine kind: sim (built-in simulator), trtllm, openai' },
  engine_url: { type: 'string', help: 'attach to a running engine at this URL instead of launching one' },
  launch_command: { type: 'string[]', help: 'custom engine launch argv, e.g. mpirun -n 4 trtllm-serve' },
  engine_option: { type: 'string[]', help: 'engine options KEY=VALUE ..., e.g. tp_size=4 kv_cache_free_gpu_memory_fraction=0.9 return_perf_metrics=true kv_bytes_per_token=131072' },
  time_scale: { type: 'float', help: 'simulator: each modelled second lasts this many real seconds' },
  clock: { type: 'string', help: "simulator clock: real (default for bench: modelled time against the wall clock, × time_scale) or virtual (modelled time only, nothing sleeps: same seed, same results; the default for sweeps)" },
  profile: { type: 'string', help: 'simulator hardware profile (default by system label)' },
  api: { type: 'string', help: 'submit through the services: workload-api URL' },
  aggregator: { type: 'string', help: 'with --api: aggregator URL (to follow the run and fetch results)' },
  telemetry_period_ms: { type: 'int', default: 100, help: 'link/GPU telemetry sampling period in ms (DCGM exporter, else NVML, else nvidia-smi; the simulator models its own)' },
  telemetry_csv: { type: 'string', help: "also write the run's telemetry series as CSV here (one row per period per GPU; default: beside the results file, <results>.<system_label>.telemetry.csv; '' for none)" },
  dcgm_url: { type: 'string', help: "a DCGM exporter's metrics URL to read link telemetry from (e.g. http://127.0.0.1:9400/metrics)" },
  token: { type: 'string', help: 'with --api: bearer token for the services (AUTH_TOKENS / READ_TOKEN); default $KVBENCH_TOKEN' },
  ...overrideFlags(''),
  ...overrideFlags('pcie_'),
  ...overrideFlags('c2c_'),
};

/**
 * Overrides for this run: the generic flags, then the ones prefixed with its system label. A flag
 * for another label is warned about, unless that label runs in the same invocation (`sweep --systems
 * pcie c2c` gives each system its own).
 */
export function overridesFor(label: string, flags: Record<string, unknown>, log = consoleLogger(), alsoRunning: readonly string[] = []): KvOverrides {
  const out: Record<string, unknown> = {};
  for (const k of OVERRIDE_KEYS) if (flags[k] !== undefined) out[k] = flags[k];
  for (const prefix of ['pcie', 'c2c']) {
    for (const k of OVERRIDE_KEYS) {
      const v = flags[`${prefix}_${k}`];
      if (v === undefined) continue;
      if (prefix === label) out[k] = v;
      else if (!alsoRunning.includes(prefix)) log.warn(`--${prefix}_${k} ignored: this run's system label is '${label}'`);
    }
  }
  return out as KvOverrides;
}

export const benchCommand: Command = {
  names: [['bench'], ['benchmark_kv_offload.py'], ['benchmark_kv_offload']],
  summary: 'run the benchmark on this machine and merge into --output_json (benchmark_kv_offload.py)',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(usage('bench', 'Replays a workload against an engine with a system\'s KV offload configuration.', benchFlags));
      return 0;
    }
    const { flags: f } = parseFlags(argv, benchFlags);
    const log = consoleLogger('info', '');
    const label = String(f.system_label);
    const outputJson = String(f.output_json);
    // Hours of GPU time must not end on a file that cannot take the run: refuse now, before any engine.
    await checkResultsFile(outputJson);
    const options: Record<string, string | number | boolean> = {};
    for (const kv of (f.engine_option as string[] | undefined) ?? []) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(kv);
      if (!m) throw new ValidationError(`--engine_option: '${kv}' is not KEY=VALUE`, 'engine_option');
      const v = m[2]!;
      options[m[1]!] = /^(true|false)$/.test(v) ? v === 'true' : v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
    }
    if (f.time_scale !== undefined) options.time_scale = f.time_scale as number;
    if (f.profile !== undefined) options.profile = f.profile as string;
    const clock = clockFlag(f.clock);
    if (clock !== undefined) options.clock = clock;
    const engine = {
      kind: parseOrThrow(EngineKind, f.engine, '--engine'),
      ...(f.engine_url ? { url: f.engine_url as string } : {}),
      ...(f.launch_command ? { launch_command: f.launch_command as string[] } : {}),
      options,
    };
    const workload = await readAnyWorkloadFile(String(f.workload_json));
    const jobFields = {
      workload_id: workloadId(workload),
      system_label: label,
      model: f.model,
      engine,
      config_module: (f.config_module as string | undefined) ?? `config_${label}`,
      overrides: overridesFor(label, f, log),
      max_batch_size: f.max_batch_size,
      max_seq_len: f.max_seq_len,
      output_tokens: f.output_tokens,
      temperature: f.temperature,
      top_p: f.top_p,
      notes: f.notes,
    };
    // The same checks POST /runs applies (checkRunPlan, @kvbench/common): refused here before any engine starts.
    checkRunPlan({
      workload,
      system_label: label,
      engine,
      config_module: jobFields.config_module,
      overrides: jobFields.overrides,
      max_seq_len: Number(f.max_seq_len),
      output_tokens: Number(f.output_tokens),
    });
    if (f.api) {
      return submitThroughServices({
        apiUrl: String(f.api),
        aggregatorUrl: f.aggregator as string | undefined,
        token: bearerToken(f),
        workload,
        run: jobFields,
        outputJson,
      });
    }
    const job = parseOrThrow(
      Job,
      { schema: 'kvbench.job', version: 1, run_id: newRunId(), submitted_at: new Date().toISOString(), ...jobFields },
      'benchmark options',
    );
    // Ctrl-C or SIGTERM (a scheduler, systemd, a CI step's timeout) ends the run the same way: the
    // runner stops the engine it launched before this command exits. A second signal does not
    // kill kvbench meanwhile: that would leave the engine (its own process group) running.
    const abort = new AbortController();
    let stoppedBy: NodeJS.Signals | null = null;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stoppedBy) {
        log.warn(`${sig} again: still stopping the engine this run started (SIGTERM to its process group, then SIGKILL)`);
        return;
      }
      stoppedBy = sig;
      log.warn(`${sig}: stopping the run and the engine it started`);
      abort.abort(new Error(`interrupted by ${sig}`));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const progress = new Progress(process.stderr, `${label} ${job.run_id}`);
    progress.total = requestCount(workload);
    const periodMs = Number(f.telemetry_period_ms);
    if (!Number.isInteger(periodMs) || periodMs < 10) throw new ValidationError('--telemetry_period_ms must be an integer of at least 10', 'telemetry_period_ms');
    // Link and GPU telemetry over the run window (issue 23): summary and series go into the results file.
    const telemetry = runTelemetry(
      async (e: RunEvent) => {
        if (e.type === 'sample') progress.add(e.sample);
      },
      { periodMs, dcgmUrl: (f.dcgm_url as string | undefined) ?? null },
      log,
      job.engine.kind,
    );
    try {
      const run = await runBenchmark({
        job,
        workload,
        attempt: 1,
        log,
        signal: abort.signal,
        agent: { ...engineAgentOptions },
        emit: telemetry.emit,
      });
      progress.finish('completed');
      // The results file carries the series merged to SERIES_POINTS_PER_GPU per GPU (totals exact); the CSV
      // beside it has every period.
      const series = [...telemetry.points()];
      const result = { ...run, telemetry: telemetry.summary(), telemetry_series: coarsenTelemetry(series) };
      const saved = await saveRun(outputJson, label, result);
      const csvPath = telemetryCsvPath(outputJson, label, f.telemetry_csv as string | undefined);
      if (csvPath) {
        writeFileSync(csvPath, telemetryCsv(series));
        console.log(`telemetry series (${series.length} points, source ${result.telemetry?.source ?? 'none'}): ${csvPath}`);
      }
      console.log(renderRunSummaryTable(compareRuns([result])));
      return reportSaved(saved, label);
    } catch (err) {
      if (!stoppedBy) throw err;
      console.error(`kvbench: ${(err as Error).message}`);
      return stoppedBy === 'SIGINT' ? 130 : 143; // 128 + the signal's number, as a shell reports it
    } finally {
      await telemetry.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};

/** Where `bench` writes the telemetry CSV: --telemetry_csv, '' for nowhere, else beside the results file. */
export function telemetryCsvPath(outputJson: string, label: string, flag: string | undefined): string | null {
  if (flag === '') return null;
  if (flag !== undefined) return flag;
  const stem = outputJson.toLowerCase().endsWith('.json') ? outputJson.slice(0, -5) : outputJson;
  return `${stem}.${label}.telemetry.csv`;
}

/** --clock: real or virtual (the simulator's; docs/DESIGN.md "Virtual clock"). */
export function clockFlag(v: unknown): 'real' | 'virtual' | undefined {
  if (v === undefined) return undefined;
  if (v !== 'real' && v !== 'virtual') throw new ValidationError(`--clock: '${String(v)}' is not real or virtual`, 'clock');
  return v;
}
