// Replays a device capture through the sampler's converter: node libs/telemetry/scripts/analyze-capture.mjs <capture dir>
// Prints the table and writes <dir>/analysis.json (counters first, and GPM alone for comparison).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCapture, parsePcieConfig } from '../dist/src/index.js';

const dir = process.argv[2] ?? new URL('../capture/h100-pcie-2026-12-06', import.meta.url).pathname;
const phases = JSON.parse(readFileSync(join(dir, 'phases.json'), 'utf8'));
const lines = readFileSync(join(dir, 'nvml-sidecar.jsonl'), 'utf8').split('\n');
// The capture machine's config space (device-run.sh copies it): its Max_Payload_Size frames every TLP counted.
const cfg = join(dir, 'pcie-config.bin');
const framing = existsSync(cfg) ? parsePcieConfig(readFileSync(cfg), 'capture', cfg.slice(cfg.indexOf('libs/'))) : undefined;
const out = { counters: analyzeCapture(phases, lines, ['counters', 'gpm'], framing), gpm: analyzeCapture(phases, lines, ['gpm'], framing) };
for (const [name, a] of Object.entries(out)) {
  if (name === 'counters') console.log(a.framing ? `Max_Payload_Size ${a.framing.max_payload_bytes} B (supported ${a.framing.max_payload_supported_bytes}), Max_Read_Request_Size ${a.framing.max_read_request_bytes} B, from ${a.framing.source}` : `no framing: ${a.framing_null_reason}`);
  console.log(`${a.device} — PCIe bytes by ${a.method}; period requested ${a.period_ms_requested} ms, achieved median ${a.period_ms_achieved.median.toFixed(2)} p99 ${a.period_ms_achieved.p99.toFixed(2)} max ${a.period_ms_achieved.max.toFixed(2)} ms over ${a.points} points`);
  for (const p of a.phases)
    console.log(`  ${name.padEnd(8)} ${p.direction}: copied ${p.copied_bytes} B, counted ${Math.round(p.counted_bytes)} B, ratio ${p.ratio.toFixed(5)}, other direction ${Math.round(p.other_direction_bytes)} B (${(p.other_direction_bytes / p.copied_bytes).toFixed(5)}), copy ${p.copy_gbps.toFixed(2)} GB/s, payload estimate / copied ${p.payload_ratio?.toFixed(5) ?? `n/a (${p.payload_null_reason})`}, other direction's payload ${p.other_direction_payload_bytes === null ? 'n/a' : Math.round(p.other_direction_payload_bytes)} B`);
}
for (const o of out.counters.overhead)
  console.log(`  overhead ${o.direction}: ${o.baseline_gbps.toFixed(3)} GB/s without the sampler, ${o.with_sampler_gbps.toFixed(3)} with (${o.slowdown_pct.toFixed(2)} % slower)`);
writeFileSync(join(dir, 'analysis.json'), JSON.stringify(out, null, 1) + '\n');
