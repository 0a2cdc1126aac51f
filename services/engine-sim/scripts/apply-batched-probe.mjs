#!/usr/bin/env node
/**
 * Puts the probe run of issue 20 (profiles/measured/h100-pcie-gen5.batched-cudnn.raw.json: an H100
 * 80GB HBM3, sections batched, offload_vs_recompute, cached_prefill; attention = the fastest kernel
 * that matched the float32 reference) into the shipped profiles:
 *
 * - h100-pcie-gen5: its llama-3.1-8b cached-prefix table is now this H100's own (it was the H200's,
 *   FlashAttention-2), its batched-pass table, and measured.offload_vs_recompute from this run
 *   (validate.ts compares the model with it). The llama-3-70b table stays the H200's, and says so.
 * - h200-pcie-gen5, gh200-c2c: the batched-pass table, marked measured_on the H100: only its ratios
 *   (a pass of k chunks against k passes, a chunk with decodes against the two apart) are used, each
 *   profile's own chunk and decode times stay its own.
 *
 * Run from the repository root: node services/engine-sim/scripts/apply-batched-probe.mjs
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = 'services/engine-sim/profiles';
const RAW = 'profiles/measured/h100-pcie-gen5.batched-cudnn.raw.json';
const raw = JSON.parse(readFileSync(join('services/engine-sim', RAW), 'utf8'));
const gpu = raw.environment.device.name;
const at = raw.started_at;
const torch = `PyTorch ${raw.environment.torch?.version ?? raw.environment.torch_version ?? '2.11.0+cu130'}`;
const cp = raw.cached_prefill[0];
const b = raw.batched[0];
const ovr = raw.offload_vs_recompute;
const attention = (name) => name.split(' (')[0];
const kernels = (checks) =>
  checks.map((c) => `${attention(c.attention).split(':')[0]}: ${c.error ? c.error.slice(0, 60) : `error ${c.max_rel_error.toExponential(1)}, ${Object.entries(c.bench_s ?? {}).map(([k, v]) => `${k} ${(v * 1e3).toFixed(2)} ms`).join(', ')}`}`).join('; ');

const batched = {
  shape: b.shape,
  tp: 1,
  chunks: b.chunks.filter((c) => c.finite_output).map((c) => [c.new, c.k, c.seconds]),
  mixed: b.mixed.filter((m) => m.finite_output).map((m) => [m.new, m.decodes, m.context, m.seconds]),
  attention: attention(b.attention),
  note: `kvbench probe batched (${RAW}), ${gpu}, ${at}: ${b.layers_run} of ${b.config.layers} layers, random bf16 weights, one forward pass with the linear layers fused over every row, device time, median of 7; ${b.fusion}`,
};

function update(name, fn) {
  const path = join(DIR, `${name}.json`);
  const text = readFileSync(path, 'utf8');
  const p = JSON.parse(text);
  const spaced = /\[\d+, \d/.test(text);
  fn(p);
  // The shipped profiles' style (libs/probe profileJson): table rows of numbers on one line.
  const rows = (_k, v) => (Array.isArray(v) && v.length >= 2 && v.length <= 4 && v.every((x) => typeof x === 'number') ? `__ROW__${JSON.stringify(v).replace(/,/g, spaced ? ', ' : ',')}` : v);
  writeFileSync(path, `${JSON.stringify(p, rows, 2).replace(/"__ROW__(\[[^"]*\])"/g, '$1')}\n`);
  console.log(`updated ${path}`);
}

const source = (what, text) => ({ what, source: text });
const setSource = (p, what, text) => {
  p.sources = p.sources.filter((s) => s.what !== what);
  p.sources.push(source(what, text));
};

update('h100-pcie-gen5', (p) => {
  const own = {
    shape: cp.shape,
    tp: 1,
    points: cp.points.filter((x) => x.finite_output).map((x) => [x.cached, x.new, x.seconds]),
    note:
      `kvbench probe cached_prefill on this GPU (${gpu}, ${RAW}, ${at}): random bf16 weights, paged KV pool of ${cp.tokens_per_block}-token blocks, batch 1, ` +
      `${cp.layers_run} of ${cp.config.layers} layers, device time. Attention: ${attention(cp.attention)}, the fastest of the kernels that matched the float32 reference (${kernels(cp.attention_checks)}); ` +
      'PyTorch SDPA dispatches a whole-prompt call (nothing cached) to a faster fused kernel than FlashAttention-2 (0x16384: about half its time) and a call over a cached prefix to FlashAttention-2; ' +
      'cuDNN forced as the only backend took none of these calls (GQA, lower-right causal mask, strided paged K/V), and FlashAttention-3 is not installed there.' +
      (cp.skipped?.length ? ` Skipped for the time budget: ${cp.skipped.map((s) => `${s.cached}x${s.new}`).join(', ')}.` : ''),
  };
  p.compute.prefill_cached = [own, ...p.compute.prefill_cached.filter((t) => t.shape !== cp.shape)];
  for (const t of p.compute.prefill_cached) if (t.shape !== cp.shape && t.measured_on) t.note = `${t.note ?? ''} [issue 20: still the H200's FlashAttention-2 table, scaled by nothing; the llama-3.1-8b table is this H100's own]`.trim();
  p.compute.batched = batched;
  p.measured.offload_vs_recompute = {
    shape: ovr.shape,
    rows: ovr.rows.filter((r) => r.finite_output).map((r) => ({
      prompt_tokens: r.prompt_tokens, suffix_tokens: r.suffix_tokens, cached_tokens: r.cached_tokens, onboard_blocks: r.onboard_blocks,
      block_bytes: ovr.block_bytes, tokens_per_block: ovr.tokens_per_block,
      recompute_s: r.recompute_s, onboard_s: r.onboard_s, onboard_copy_s: r.onboard_copy_s, gpu_hit_s: r.gpu_hit_s,
    })),
    note: `kvbench probe offload_vs_recompute on ${gpu} (${RAW}, ${at}), ${ovr.shape}, whole model on one GPU, ${attention(ovr.attention)}: recompute = the whole prompt; onboard = the prefix's blocks copied one per copy from pinned host memory, then the suffix; GPU hit = the suffix alone`,
  };
  setSource(p, 'compute.prefill_cached', `llama-3.1-8b: ${RAW} (cached_prefill, this H100, fastest checked attention); llama-3-70b: profiles/measured/h200-pcie-gen5.raw.json (an H200, FlashAttention-2)`);
  setSource(p, 'compute.batched', `${RAW} (batched, this H100)`);
  setSource(p, 'measured.offload_vs_recompute', `${RAW} (offload_vs_recompute, this H100)`);
});

for (const name of ['h200-pcie-gen5', 'gh200-c2c']) {
  update(name, (p) => {
    p.compute.batched = {
      ...batched,
      measured_on: gpu,
      note: `${batched.note}. Measured on an ${gpu}, not on this profile's GPU: only the ratios are used (k chunks in one pass against k passes; a chunk with decodes against the two apart), applied to this profile's own chunk and decode times. An H200/GH200 reads weights faster (4.8 / 4.0 TB/s against 3.35), so its short passes have a lower floor and its ratios for short chunks are likely somewhat higher (less saving) than these`,
    };
    setSource(p, 'compute.batched', `${RAW} (batched, measured on an ${gpu}; ratios only)`);
  });
}
