import { rm, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { compareRuns, renderComparisonTable } from '@kvbench/report';
import { parseFlags, usage, type FlagSpecs } from '../args.js';
import type { Command } from '../command.js';
import { KvbenchClient } from '../api-client.js';
import { renderSideBySide } from '../side-by-side.js';
import { startLocalStack } from '../stack.js';
import { watchRun } from '../watch.js';
import { terminalLogger } from '../terminal-log.js';

/**
 * A workload small enough for two cores in well under three minutes, shaped to make
 * the offload path matter: prompts are reused after the GPU pool has evicted them.
 */
const DEMO_WORKLOAD = {
  contexts: [8192, 16384],
  batches_per_context: 5,
  batch_sizes: [4, 8],
  prompt_pool_size: 6,
  reuse_start_batch: 2,
  delay_ms: 0,
  seed: 42,
};
/** Same GPU pool and host cache on both systems, so the link is the only difference. */
const DEMO_RUN = {
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  overrides: { gpu_kv_max_tokens: 49152, host_cache_gb: 16 },
  max_batch_size: 8,
  max_seq_len: 32768,
  output_tokens: 16,
};

const flags: FlagSpecs = {
  out: { type: 'string', default: 'demo-out', help: 'folder for benchmark_results.json, report.html and the services\' logs' },
  time_scale: { type: 'float', default: 1, help: 'simulator time scale (modelled seconds last this many real seconds)' },
  min_effect: { type: 'float', default: 0.05, help: 'practical threshold of the comparison (fraction; 0.05 = 5%)' },
};

export const demoCommand: Command = {
  names: [['demo']],
  summary: 'the main job end to end on the simulator: services, a PCIe and a C2C run, comparison',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(usage('demo', this.summary, flags));
      return 0;
    }
    const { flags: f } = parseFlags(argv, flags);
    const out = resolve(String(f.out));
    const log = terminalLogger('demo');
    await rm(join(out, 'stack'), { recursive: true, force: true });
    await mkdir(out, { recursive: true });

    log.info('starting nats-server, workload-api, aggregator and two host agents (pcie, c2c)');
    const stack = await startLocalStack({ dir: join(out, 'stack'), systems: ['pcie', 'c2c'], log, simTimeScale: f.time_scale as number });
    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
      log.warn('interrupted: stopping everything the demo started');
      void stack.stop().then(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      log.info(`workload-api ${stack.apiUrl} (Swagger UI ${stack.apiUrl}/docs), aggregator ${stack.aggregatorUrl}`);
      const client = new KvbenchClient(stack.apiUrl, stack.aggregatorUrl);
      const wl = await client.createWorkload({ params: DEMO_WORKLOAD });
      log.info(`workload ${wl.id}: ${wl.requests} requests over contexts ${(wl.contexts ?? []).join(', ')} tokens, ${wl.prompts} distinct prompts`);

      const runs = await Promise.all(
        (['pcie', 'c2c'] as const).map(async (system_label) => {
          const r = await client.submitRun({ workload_id: wl.id, system_label, ...DEMO_RUN, notes: `kvbench demo (${system_label}, simulated)` });
          log.info(`submitted ${system_label} run ${r.run_id}; live page ${stack.aggregatorUrl}/runs/${r.run_id}/live`);
          return { system_label, run_id: r.run_id };
        }),
      );
      // Two bars on one terminal would overwrite each other's line: report progress as log lines.
      const lines = { write: (s: string) => process.stderr.write(s), isTTY: false } as unknown as NodeJS.WritableStream;
      const watched = await Promise.all(runs.map((r) => watchRun(stack.aggregatorUrl, r.run_id, { summaryOut: null, out: lines, label: r.system_label.padEnd(4) })));
      const failed = watched.filter((w) => w.status !== 'completed');
      if (failed.length) {
        for (const w of failed) log.error(`run failed: ${w.error}`);
        log.error(`logs: ${join(out, 'stack', 'logs')}`);
        return 1;
      }

      const doc = await client.results({ workload_id: wl.id });
      const resultsPath = join(out, 'benchmark_results.json');
      await writeFile(resultsPath, JSON.stringify(doc, null, 2) + '\n');
      console.log('\n' + renderSideBySide(doc) + '\n');
      const comparison = compareRuns(Object.values(doc.runs).flat(), { baseline: 'pcie', minEffect: f.min_effect as number });
      console.log(renderComparisonTable(comparison));
      const html = await fetch(`${stack.aggregatorUrl}/compare.html?workload_id=${encodeURIComponent(wl.id)}&min_effect=${f.min_effect as number}`);
      if (html.ok) await writeFile(join(out, 'report.html'), await html.text());
      console.log(`\nwrote ${resultsPath}${html.ok ? ` and ${join(out, 'report.html')}` : ''}`);
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (!interrupted) await stack.stop();
    }
  },
};
