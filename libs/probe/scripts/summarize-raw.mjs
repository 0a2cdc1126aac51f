#!/usr/bin/env node
// Print the README's tables from probe output (every figure in libs/probe/README.md comes from here):
//   node libs/probe/scripts/summarize-raw.mjs services/engine-sim/profiles/measured/h100-pcie-gen5.raw.json [more raw files...]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: summarize-raw.mjs <raw.json> [more raw files]');
  process.exit(2);
}
const docs = files.map((f) => ({ f: basename(f), d: JSON.parse(readFileSync(f, 'utf8')) }));
const size = (b) => (b >= 2 ** 30 ? `${b / 2 ** 30} GiB` : b >= 2 ** 20 ? `${b / 2 ** 20} MiB` : `${b / 2 ** 10} KiB`);
const f2 = (x) => (x === undefined || x === null ? '–' : x.toFixed(2));
const pct = (x, of) => `${((100 * x) / of).toFixed(1)}%`;

for (const { f, d } of docs) {
  const e = d.environment;
  const g = e.gpus[0] ?? {};
  console.log(`\n## ${f}: ${d.mode}, started ${d.started_at}, ${d.duration_s} s`);
  console.log(`${e.device.name}, driver ${g.driver}, PCIe Gen${g.pcie_gen_current} x${g.pcie_width_current} (max Gen${g.pcie_gen_max} x${g.pcie_width_max}), ` +
    `PyTorch ${e.torch} (CUDA ${e.torch_cuda}), ${e.cpu['Model name']} ×${e.cpu['CPU(s)']}${e.cpu['Hypervisor vendor'] ? ` (${e.cpu['Hypervisor vendor']} guest)` : ''}, ` +
    `${(e.host_memory.MemTotal / 2 ** 30).toFixed(1)} GiB RAM, kernel ${e.os?.kernel}`);
  const cp = (dir, pinned, b) => d.copies.find((c) => c.dir === dir && c.pinned === pinned && c.bytes === b);
  const sizes = [...new Set(d.copies.map((c) => c.bytes))].sort((a, b) => a - b);
  console.log('\n| size | pinned h2d | pinned d2h | pinned h2d, issued alone | pinned d2h, issued alone | pageable h2d | pageable d2h |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const b of sizes) {
    const [a, c, p, q] = [cp('h2d', true, b), cp('d2h', true, b), cp('h2d', false, b), cp('d2h', false, b)];
    console.log(`| ${size(b)} | ${f2(a?.GBps)} | ${f2(c?.GBps)} | ${f2(a?.unheld_GBps)} | ${f2(c?.unheld_GBps)} | ${f2(p?.GBps)} | ${f2(q?.GBps)} |`);
  }
  const big = sizes[sizes.length - 1];
  for (const dir of ['h2d', 'd2h']) {
    const c = cp(dir, true, big);
    if (c) console.log(`pinned ${size(big)} ${dir}: ${f2(c.GBps)} GB/s = ${pct(c.GBps, 55.3)} of 55.3, ${pct(c.GBps, 63)} of 63 (median of ${c.reps}, ${f2(big / c.max_s / 1e9)}-${f2(big / c.min_s / 1e9)})`);
  }
  if (d.block_copies.length) {
    console.log('\n| layout | shape | block | copies | streams | h2d | d2h |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    const key = (b) => `${b.layout}|${b.shape ?? ''}|${b.block_bytes}|${b.streams}`;
    const seen = new Map();
    for (const b of d.block_copies) seen.set(key(b), { ...(seen.get(key(b)) ?? { b }), [b.dir]: b });
    for (const { b, h2d, d2h } of seen.values()) {
      console.log(`| ${b.layout} | ${b.shape ?? ''}${b.tokens_per_block ? ` (${b.tokens_per_block} tok)` : ''} | ${size(b.block_bytes)} | ${b.n_blocks} | ${b.streams} | ${f2(h2d?.GBps)} | ${f2(d2h?.GBps)} |`);
    }
  }
  for (const b of d.bidirectional) {
    console.log(`both directions (${b.kind}${b.block_bytes ? `, ${size(b.block_bytes)} blocks × ${b.n_blocks}` : ''}, ${size(b.bytes_each)} each way): h2d ${f2(b.h2d_GBps)} + d2h ${f2(b.d2h_GBps)}, total ${f2(b.total_GBps)} GB/s`);
  }
  if (d.d2d) console.log(`device-to-device ${size(d.d2d.bytes)}: ${f2(d.d2d.GBps_read_plus_write)} GB/s (read + write)`);
  for (const c of d.compute) {
    console.log(`\n${c.shape}: ${c.layers_run} of ${c.config.layers} layers timed (× ${c.layer_scale.toFixed(4)}), ${c.attention}`);
    console.log('| prompt tokens | prefill s (full model) | repeats |');
    console.log('| --- | --- | --- |');
    for (const p of c.prefill) console.log(`| ${p.tokens} | ${p.seconds.toFixed(4)} | ${p.reps} |`);
    console.log('| batch × context | decode step ms (full model) | bytes/step ÷ time GB/s | CUDA graph |');
    console.log('| --- | --- | --- | --- |');
    for (const p of c.decode) console.log(`| ${p.batch} × ${p.context} | ${(p.seconds * 1e3).toFixed(2)} | ${p.effective_GBps.toFixed(0)} | ${p.cuda_graph} |`);
  }
  const k = (t) => (t === 0 ? '0' : t % 1024 === 0 ? `${t / 1024}K` : `${t}`);
  for (const c of d.cached_prefill ?? []) {
    console.log(`\n${c.shape} cached prefill: ${c.layers_run} of ${c.config.layers} layers timed (× ${c.layer_scale.toFixed(4)}), ${c.attention.split(' (')[0]}; seconds, full model`);
    const cs = [...new Set(c.points.map((p) => p.cached))].sort((a, b) => a - b);
    const ns = [...new Set(c.points.map((p) => p.new))].sort((a, b) => a - b);
    const at = (cc, n) => c.points.find((p) => p.cached === cc && p.new === n);
    console.log(`| new \\ cached | ${cs.map(k).join(' | ')} |`);
    console.log(`| --- | ${cs.map(() => '---').join(' | ')} |`);
    for (const n of ns) console.log(`| ${k(n)} | ${cs.map((cc) => (at(cc, n) ? at(cc, n).seconds.toFixed(4) : '–')).join(' | ')} |`);
    if (c.skipped.length) console.log(`skipped: ${c.skipped.map((x) => `${k(x.cached)}+${k(x.new)} (${x.reason})`).join(', ')}`);
  }
  const o = d.offload_vs_recompute;
  if (o) {
    console.log(`\noffload vs recompute, ${o.shape}, blocks of ${size(o.block_bytes)}: seconds to the first token's logits`);
    console.log('| prompt | new | recompute | onboard | copy (GB/s) | GPU hit | recompute / onboard |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of o.rows) {
      console.log(`| ${k(r.prompt_tokens)} | ${r.suffix_tokens} | ${r.recompute_s.toFixed(4)} | ${r.onboard_s.toFixed(4)} | ${r.onboard_copy_s.toFixed(4)} (${f2(r.onboard_copy_GBps)}) | ${r.gpu_hit_s.toFixed(4)} | ${(r.recompute_s / r.onboard_s).toFixed(1)}x |`);
    }
  }
  if (d.errors.length) console.log(`errors: ${JSON.stringify(d.errors)}`);
}
