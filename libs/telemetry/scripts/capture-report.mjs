// The device capture as a report page: node libs/telemetry/scripts/capture-report.mjs [capture dir]
// Writes <dir>/report.html: the link series the sampler's converter made of the recorded sidecar
// output, drawn by the report's own link section; the "engine" bytes beside the link's are the
// bytes the capture copied (a copy has no engine), so the ratio column is the payload estimate / copied where the capture has the machine's
// config space (its Max_Payload_Size), else counted / copied.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertNvmlLines, parsePcieConfig, summarize } from '../dist/src/index.js';
import { telemetrySection, escapeHtml } from '@kvbench/report';

const dir = process.argv[2] ?? new URL('../capture/h100-pcie-2026-12-06', import.meta.url).pathname;
const phases = JSON.parse(readFileSync(join(dir, 'phases.json'), 'utf8'));
const lines = readFileSync(join(dir, 'nvml-sidecar.jsonl'), 'utf8').split('\n');
const hello = JSON.parse(lines[0]);
const { plan, points } = convertNvmlLines(lines);
// The GPU's framing from the capture machine's config-space dump, as the sampler reads it from sysfs.
const cfg = join(dir, 'pcie-config.bin');
for (const g of plan.gpus) {
  const r = existsSync(cfg) ? parsePcieConfig(readFileSync(cfg), g.pci_bus_id ?? 'capture', cfg.slice(cfg.indexOf('libs/'))) : { ok: false, reason: 'the capture has no config-space dump (pcie-config.bin)' };
  g.pcie_framing = r.ok ? r.framing : null;
  if (!r.ok) g.pcie_framing_null_reason = r.reason;
}
const copied = (d) => phases.with_sampler.filter((p) => p.direction === d).reduce((a, p) => a + p.bytes, 0);
const summary = summarize({
  source: 'nvml', detail: plan.detail, tried: [], simulated: false, gpus: plan.gpus, periodMs: phases.period_ms, points,
  nullReasons: plan.nullReasons, requests: 0, outputTokens: 0,
  logMetrics: { cache_hit_rate: null, reused_blocks: null, offloaded_blocks: null, observed_offload_bandwidth_gbps: null, offloaded_bytes: copied('d2h'), onboarded_bytes: copied('h2d'), sources: {}, null_reasons: {} },
});
const run = { aggregate: {}, log_metrics: {}, samples: [], run_meta: { run_id: 'capture' }, telemetry: summary, telemetry_series: points };
const body = telemetrySection([{ key: phases.device, run }]).replaceAll('engine offloaded GB', 'bytes copied D2H (GB)').replaceAll('engine onboarded GB', 'bytes copied H2D (GB)');
const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>kvbench telemetry capture</title><style>body{font:14px system-ui;margin:24px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px}.flag{background:#fdd}</style></head><body>
<h1>Telemetry capture: ${escapeHtml(phases.device)}</h1><p>${phases.with_sampler.length} copy phases of ${phases.with_sampler[0].copies} × ${phases.with_sampler[0].copy_bytes} B (pinned host memory), NVML sidecar at ${phases.period_ms} ms (${escapeHtml(hello.versions.nvidia_ml_py ?? '')}), driver ${escapeHtml(hello.versions.driver ?? '')}.</p>${body}</body></html>\n`;
writeFileSync(join(dir, 'report.html'), html);
console.log(`wrote ${join(dir, 'report.html')}: ratios on ${summary.versus_engine.basis}: offload ratio ${summary.versus_engine.offload_ratio?.toFixed(5)}, onboard ratio ${summary.versus_engine.onboard_ratio?.toFixed(5)}, energy ${summary.totals.energy_j?.toFixed(1)} J, peak memory ${summary.peak_mem_used_bytes} B, period ${summary.period_ms_achieved} ms`);
