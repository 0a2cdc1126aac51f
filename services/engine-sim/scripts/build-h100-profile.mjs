// Superseded since issue 8: profiles/h100-pcie-gen5.json is built from kvbench probe's own raw
// output by libs/probe/scripts/build-shipped-profiles.mjs. This script rebuilds the older,
// anchors-based profile (it would overwrite the shipped one; kept for reference).
// Builds profiles/h100-pcie-gen5.json from the measurement file in ../shared/anchors
// (node services/engine-sim/scripts/build-h100-profile.mjs [measured.json]). Every figure in the
// output comes from that file except the decode HBM bandwidth (datasheet, cited in `sources`).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = resolve(process.argv[2] ?? join(here, '../../../../shared/anchors/h100-pcie-gen5.measured.json'));
const m = JSON.parse(readFileSync(src, 'utf8'));

const table = (rows) => rows.map((r) => [r.bytes ?? r.blk, r.GBps]).sort((a, b) => a[0] - b[0]);
const copies = (dir, pinned) => table(m.copy.filter((c) => c.dir === dir && c.pinned === pinned));
const blocks = (dir) => table(m.scattered.filter((c) => c.dir === dir));

const profile = {
  schema: 'kvbench.sim-profile',
  version: 1,
  name: 'h100-pcie-gen5',
  description: 'One NVIDIA H100 80GB HBM3 behind PCIe Gen5 x16, measured 2026-11-28 (anchors/h100-pcie-gen5.measured.json).',
  system: 'pcie',
  link: {
    kind: 'PCIe Gen5 x16',
    h2d: { pinned: copies('h2d', true), pageable: copies('h2d', false) },
    d2h: { pinned: copies('d2h', true), pageable: copies('d2h', false) },
    block_copy: { h2d: blocks('h2d'), d2h: blocks('d2h') },
    bidirectional_total_GBps: m.bidir_GBps_total,
  },
  compute: {
    gpu: m.gpu,
    // nvidia-smi memory.total from the measurement file (MiB → GB)
    memory_GB: Math.round((Number(/([0-9]+) MiB/.exec(m.nvsmi_pcie)[1]) * 1048576) / 1e7) / 100,
    prefill: [
      {
        shape: 'llama-3.1-8b',
        tp: 1,
        points: m.prefill.map((p) => [p.tokens, p.prefill8B_s]),
        note: 'PyTorch SDPA, random weights, bf16, one H100: an upper bound on TensorRT-LLM prefill time',
      },
      {
        shape: 'llama-3-70b',
        tp: 1,
        points: m.prefill.map((p) => [p.tokens, p.prefill70B_1gpu_equiv_s]),
        note: 'one GPU worth of compute (layer subset scaled); divide by the tensor-parallel degree',
      },
    ],
    decode: { effective_hbm_GBps: 3350, step_overhead_s: 0 },
  },
  sources: [
    { what: 'link.*, link.block_copy, link.bidirectional_total_GBps', source: 'anchors/h100-pcie-gen5.measured.json: PyTorch 2.11 / CUDA 13, CUDA events, median of 10-50 repeats', note: `gpu: ${m.gpu}; nvidia-smi link Gen5 x16` },
    { what: 'compute.prefill', source: 'anchors/h100-pcie-gen5.measured.json (prefill rows), PyTorch SDPA on one H100' },
    { what: 'compute.memory_GB', source: 'anchors/h100-pcie-gen5.measured.json: nvidia-smi memory.total 81559 MiB' },
    { what: 'compute.decode.effective_hbm_GBps', source: 'NVIDIA H100 SXM datasheet: HBM3 3.35 TB/s (datasheet peak, not measured; decode is a minor term for kvbench workloads)' },
  ],
  measured: {
    at: '2026-11-28',
    tool: 'PyTorch 2.11 (CUDA 13), CUDA events around each copy',
    gpu: m.gpu,
    host: 'Intel Xeon (KVM guest), 16 vCPU',
    method: 'median of 10-50 repeats after warm-up',
  },
};
const out = join(here, '..', 'profiles', 'h100-pcie-gen5.json');
writeFileSync(out, JSON.stringify(profile, null, 2).replace(/\[\s+([\d.e+-]+),\s+([\d.e+-]+)\s+\]/g, "[$1, $2]") + "\n");
console.log(`wrote ${out}`);
