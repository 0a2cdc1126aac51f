// Builds profiles/gh200-c2c.json from published GH200 figures (sources in the output) and, for the
// shape of bandwidth versus transfer size, from the H100 measurement (profiles/h100-pcie-gen5.json).
//
// Size curve: no per-size GH200 table is published. We assume the per-copy overhead of a copy of
// s bytes, o(s) = s / bw_h100(s) - s / peak_h100, is a property of the driver and DMA set-up, not
// of the link, and give the GH200 copy of s bytes the time s / peak_gh200 + o(s). Large copies then
// approach the published GH200 figure; small ones are overhead-bound as on the H100.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const h100 = JSON.parse(readFileSync(join(here, '..', 'profiles', 'h100-pcie-gen5.json'), 'utf8'));

// Published GH200 copy-engine figures, large buffers: NVIDIA/nvbandwidth issue #23 (GH200 96GB HBM3,
// nvbandwidth v5.0): host→device CE 346 GB/s, device→host about 15% lower. REFERENCES.md lists
// 342-421 h2d and 170-297 d2h across sources; we take nvbandwidth's h2d and the top of the d2h range
// (consistent with "about 15% lower").
const PEAK = { h2d: 346, d2h: 297 };
const r2 = (x) => Math.round(x * 100) / 100;
const peakOf = (t) => Math.max(...t.map((p) => p[1]));
function derive(h100Table, dir) {
  // The H100's own peak is its best single large pinned copy in that direction.
  const peakH100 = peakOf(h100.link[dir].pinned);
  const peakGh200 = PEAK[dir];
  return h100Table.map(([s, bw]) => {
    const overhead = Math.max(0, s / (bw * 1e9) - s / (peakH100 * 1e9));
    return [s, r2(s / (s / (peakGh200 * 1e9) + overhead) / 1e9)];
  });
}

const profile = {
  schema: 'kvbench.sim-profile',
  version: 1,
  name: 'gh200-c2c',
  description:
    'NVIDIA GH200 (Grace + H100-class Hopper GPU) over NVLink-C2C. Link from published measurements, size curve derived (see sources); compute is the H100 measurement, since the GH200 GPU is the same Hopper GH100 die.',
  system: 'c2c',
  link: {
    kind: 'NVLink-C2C',
    h2d: { pinned: derive(h100.link.h2d.pinned, 'h2d') },
    d2h: { pinned: derive(h100.link.d2h.pinned, 'd2h') },
    block_copy: { h2d: derive(h100.link.block_copy.h2d, 'h2d'), d2h: derive(h100.link.block_copy.d2h, 'd2h') },
  },
  compute: {
    gpu: 'GH200 Hopper GPU (H100-class, 132 SMs); prefill figures measured on H100 80GB HBM3',
    memory_GB: 96,
    prefill: h100.compute.prefill.map((p) => ({ ...p, note: `${p.note ?? ''}; measured on H100, used for GH200 (same GPU die)`.replace(/^; /, '') })),
    // The cached-prefix tables h100-pcie-gen5 carries (measured on an H200, whose 4.8 TB/s HBM3e is
    // close to the GH200 144GB's 4.9 TB/s): the same compute model on both sides of the comparison.
    ...(h100.compute.prefill_cached ? { prefill_cached: h100.compute.prefill_cached.map((t) => ({ ...t, note: `${t.note}; used for GH200 as for h100-pcie-gen5` })) } : {}),
    ...(h100.compute.batched ? { batched: { ...h100.compute.batched, measured_on: h100.measured?.gpu ?? 'NVIDIA H100 80GB HBM3', note: 'batched passes of the H100 (profiles/h100-pcie-gen5.json), used for GH200 as its other compute figures: only the ratios are used' } } : {}),
    decode: { effective_hbm_GBps: 4000, step_overhead_s: 0 },
  },
  sources: [
    { what: 'link.h2d peak (346 GB/s)', source: 'NVIDIA/nvbandwidth issue #23: GH200 480GB LPDDR5X + 96GB HBM3, host_to_device CE 346 GB/s, SM 342 GB/s', url: 'https://github.com/NVIDIA/nvbandwidth/issues/23' },
    { what: 'link.d2h peak (297 GB/s)', source: 'REFERENCES.md GH200 range 170-297 GB/s device→host (nvbandwidth #23, vllm-project/vllm PR #6496, NVIDIA/Megatron-LM issue #6491); top of range, matching nvbandwidth #23 "H2D about 15% faster than D2H"', note: 'lower reported figures (170 GB/s) would make offload slower; validate.ts shows the sensitivity' },
    { what: 'link size curve', source: 'derived: per-copy overhead measured on H100 (anchors/h100-pcie-gen5.measured.json) added to bytes / GH200 peak; see scripts/build-gh200-profile.mjs', note: 'assumption: per-copy set-up cost is the same on Grace as on the x86 host' },
    { what: 'link.bidirectional_total_GBps', source: 'not given: no published concurrent-both-directions GH200 measurement; NVLink-C2C is 450 GB/s per direction (900 GB/s total), so directions are not capped jointly' },
    { what: 'compute.prefill', source: 'profiles/h100-pcie-gen5.json compute.prefill (kvbench probe on one H100 80GB HBM3); GH200 carries the same Hopper GPU' },
    ...(h100.compute.prefill_cached
      ? [{ what: 'compute.prefill_cached', source: `profiles/h100-pcie-gen5.json compute.prefill_cached (kvbench probe cached_prefill: ${h100.compute.prefill_cached.map((t) => `${t.shape} measured on ${t.measured_on ?? 'an H100 80GB HBM3'}`).join('; ')}; sources as listed in that profile)`, note: 'same tables as the PCIe profile, so the C2C/PCIe comparison differs only by the link' }]
      : []),
    ...(h100.compute.batched ? [{ what: 'compute.batched', source: 'profiles/h100-pcie-gen5.json compute.batched (kvbench probe batched on an H100 80GB HBM3, profiles/measured/h100-pcie-gen5.batched-cudnn.raw.json)', note: 'ratios only, as for the PCIe profile' }] : []),
    { what: 'compute.decode.effective_hbm_GBps, compute.memory_GB', source: 'NVIDIA GH200 datasheet: 96GB HBM3 at 4 TB/s (peak, not measured)' },
  ],
};
const out = join(here, '..', 'profiles', 'gh200-c2c.json');
// Table rows ([x, y] and [c, n, s]) on one line.
const rows = /\[\s+([\d.e+-]+),\s+([\d.e+-]+)(?:,\s+([\d.e+-]+))?(?:,\s+([\d.e+-]+))?\s+\]/g;
writeFileSync(out, JSON.stringify(profile, null, 2).replace(rows, (_m, ...xs) => `[${xs.slice(0, 4).filter((x) => typeof x === 'string').join(', ')}]`) + '\n');
console.log(`wrote ${out}`);
