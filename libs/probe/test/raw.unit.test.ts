import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { ValidationError } from '@kvbench/common';
import { parseProbeRaw, parseProbeRawText } from '../src/index.js';
import { rawFiles, readJson, readText } from './helpers.js';

test('every committed probe output parses, with the environment and measurements the builder reads', () => {
  const files = rawFiles();
  assert.ok(files.length >= 1, 'no measured/*.raw.json committed');
  for (const f of files) {
    const raw = parseProbeRawText(readText(f), f);
    assert.equal(raw.complete, true, `${basename(f)} is complete`);
    assert.deepEqual(raw.errors, [], `${basename(f)} has no failed section`);
    const g = raw.environment.gpus[0]!;
    assert.ok(g.name && g.driver, 'nvidia-smi name and driver');
    assert.ok(g.pcie_gen_max && g.pcie_width_max, 'nvidia-smi PCIe generation and width');
    // A run of compute sections only (--sections batched,offload_vs_recompute,cached_prefill) has no link figures.
    const linkRun = (raw.args['sections'] as string[] | undefined)?.includes('link') ?? true;
    if (linkRun) assert.ok(raw.copies.some((c) => c.pinned && c.dir === 'h2d') && raw.copies.some((c) => c.pinned && c.dir === 'd2h'), 'pinned copies both ways');
    for (const c of raw.copies) assert.ok(Math.abs(c.GBps - c.bytes / c.median_s / 1e9) / c.GBps < 0.01, 'GBps is bytes / median time');
  }
});

test('the full H100 output covers 64 KiB to 1 GiB pinned and pageable, both KV layouts, 1-4 streams, prefill and decode', () => {
  const raw = parseProbeRaw(readJson(rawFiles().find((f) => basename(f) === 'h100-pcie-gen5.raw.json')!));
  assert.equal(raw.mode, 'full');
  for (const pinned of [true, false]) {
    for (const dir of ['h2d', 'd2h'] as const) {
      const sizes = raw.copies.filter((c) => c.pinned === pinned && c.dir === dir).map((c) => c.bytes);
      assert.equal(Math.min(...sizes), 64 * 1024);
      assert.equal(Math.max(...sizes), 1024 ** 3);
    }
  }
  const layouts = new Set(raw.block_copies.map((b) => b.layout));
  assert.deepEqual([...layouts].sort(), ['all_layers', 'per_layer', 'sweep']);
  assert.deepEqual([...new Set(raw.block_copies.map((b) => b.streams))].sort(), [1, 2, 4]);
  // Block sizes follow the shapes: 64 tokens × 128 KiB/token (Llama-3.1-8B) = 8 MiB; per layer 256 KiB.
  const b8 = raw.block_copies.filter((b) => b.shape === 'llama-3.1-8b' && b.tokens_per_block === 64);
  assert.deepEqual([...new Set(b8.map((b) => `${b.layout}:${b.block_bytes}`))].sort(), ['all_layers:8388608', 'per_layer:262144']);
  assert.ok(raw.bidirectional.some((b) => b.kind === 'single'));
  assert.deepEqual(raw.compute.map((c) => c.shape), ['llama-3.1-8b', 'llama-3-70b']);
  for (const c of raw.compute) {
    assert.ok(c.prefill.length >= 5 && c.decode.length >= 2);
    const tokens = c.prefill.map((p) => p.tokens);
    assert.deepEqual(tokens, [...tokens].sort((a, b) => a - b));
  }
});

test('the H200 output has the cached-prefix table for both shapes and the three cases at 1K-128K, every pass finite', () => {
  const raw = parseProbeRaw(readJson(rawFiles().find((f) => basename(f) === 'h200-pcie-gen5.raw.json')!));
  assert.equal(raw.environment.device.name, 'NVIDIA H200');
  assert.deepEqual(raw.cached_prefill.map((c) => c.shape), ['llama-3.1-8b', 'llama-3-70b']);
  const b8 = raw.cached_prefill[0]!;
  assert.equal(b8.layers_run, 32, 'Llama-3.1-8B: every layer timed');
  const cached = new Set(b8.points.map((p) => p.cached)), fresh = new Set(b8.points.map((p) => p.new));
  for (const c of [0, 1024, 4096, 16384, 65536, 131072]) assert.ok(cached.has(c), `C = ${c}`);
  for (const n of [1, 64, 512, 2048, 8192, 131072]) assert.ok(fresh.has(n), `N = ${n}`);
  assert.ok(raw.cached_prefill.every((c) => c.points.every((p) => p.finite_output)));
  assert.match(b8.attention, /flash/);
  const o = raw.offload_vs_recompute!;
  assert.deepEqual([...new Set(o.rows.map((r) => r.prompt_tokens))], [1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072]);
  for (const r of o.rows) {
    assert.equal(r.onboard_blocks, Math.ceil(r.cached_tokens / o.tokens_per_block));
    assert.ok(r.onboard_copy_s < r.onboard_s && r.gpu_hit_s < r.onboard_s, 'onboard = copy, then the suffix');
  }
  // Output of probe versions before the section parses, with the section empty.
  const old = parseProbeRaw(readJson(rawFiles().find((f) => basename(f) === 'h100-pcie-gen5.raw.json')!));
  assert.deepEqual(old.cached_prefill, []);
  assert.equal(old.offload_vs_recompute, null);
});

test('malformed output is a ValidationError naming the field', () => {
  const doc = readJson(rawFiles()[0]!) as Record<string, unknown>;
  assert.throws(() => parseProbeRaw({ ...doc, schema: 'other' }), (e: unknown) => e instanceof ValidationError && e.field === 'schema');
  assert.throws(() => parseProbeRaw({ ...doc, copies: [{ dir: 'sideways' }] }), (e: unknown) => e instanceof ValidationError && e.field.startsWith('copies.0'));
  assert.throws(() => parseProbeRawText('kvbench probe: no CUDA device'), ValidationError);
});
