import { test } from 'node:test';
import assert from 'node:assert/strict';
import { multiTurn70b, offloadVsRecompute } from '../src/validation.js';

test('published-scenario shapes: offload beats recompute more as prompts grow; C2C beats PCIe on multi-turn reuse', () => {
  const rows = offloadVsRecompute('h100-pcie-gen5', [4096, 16384, 65536]);
  for (const r of rows) assert.ok(r.speedup > 1, `${r.promptTokens}: ${r.speedup}`);
  assert.ok(rows[0]!.speedup < rows[1]!.speedup && rows[1]!.speedup < rows[2]!.speedup, 'speedup grows with prompt length');
  // KV moved = tokens × 128 KiB (the last partial block is not stored).
  for (const r of rows) assert.ok(Math.abs(r.onboardGB - (Math.floor(r.promptTokens / 64) * 64 * 128 * 1024) / 1e9) < 1e-9);
  const mt = multiTurn70b({ contexts: [4096, 32768], conversations: 4, turns: 3 });
  for (const r of mt) {
    assert.ok(r.ratio > 1, `C2C should win at ${r.contextTokens}`);
    assert.ok(r.onboardedBlocksPerTurn > 0, 'the scenario must really onboard');
  }
  assert.ok(mt[1]!.ratio > mt[0]!.ratio, 'the link matters more with longer contexts');
});
