// Replays a device capture through the sampler's converter: node libs/telemetry/scripts/analyze-capture.mjs <capture dir>
// Prints the table and writes <dir>/analysis.json (counters first, and GPM alone for comparison).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture } from '../dist/src/index.js';

const dir = process.argv[2] ?? new URL('../capture/h100-pcie-2026-12-06', import.meta.url).pathname;
const phases = JSON.parse(readFileSync(join(dir, 'phases.json'), 'utf8'));
const lines = readFileSync(join(dir, 'nvml-sidecar.jsonl'), 'utf8').split('\n');
const out = { counters: analyzeCapture(phases, lines, ['counters', 'gpm']), gpm: analyzeCapture(phases, lines, ['gpm']) };
for (const [name, a] of Object.entries(out)) {
  console.log(`${a.device} — PCIe bytes by ${a.method}; period requested ${a.period_ms_requested} ms, achieved median ${a.period_ms_achieved.median.toFixed(2)} p99 ${a.period_ms_achieved.p99.toFixed(2)} max ${a.period_ms_achieved.max.toFixed(2)} ms over ${a.points} points`);
  for (const p of a.phases)
    console.log(`  ${name.padEnd(8)} ${p.direction}: copied ${p.copied_bytes} B, counted ${Math.round(p.counted_bytes)} B, ratio ${p.ratio.toFixed(5)}, other direction ${Math.round(p.other_direction_bytes)} B (${(p.other_direction_bytes / p.copied_bytes).toFixed(5)}), copy ${p.copy_gbps.toFixed(2)} GB/s, TLP-model payload ratio ${p.tlp_payload_ratio.toFixed(5)}`);
}
for (const o of out.counters.overhead)
  console.log(`  overhead ${o.direction}: ${o.baseline_gbps.toFixed(3)} GB/s without the sampler, ${o.with_sampler_gbps.toFixed(3)} with (${o.slowdown_pct.toFixed(2)} % slower)`);
writeFileSync(join(dir, 'analysis.json'), JSON.stringify(out, null, 1) + '\n');
