#!/usr/bin/env node
/**
 * The model against the probe's measurements of issue 20 (run after `pnpm exec tsc -b`):
 * (1) every batched pass the probe timed, priced by the simulator's TimingModel on each profile
 *     (chunks from the cached-prefix table, decodes from the decode model, the pass from the
 *     batched ratios), against the measured time on the H100 that ran it;
 * (2) the probe's offload-vs-recompute cases on the H100 profile (validation.ts threeCases).
 * node services/engine-sim/scripts/validate-batched.mjs
 */
import { loadProfile, resolveModelShape, TimingModel } from '../dist/src/index.js';
import { threeCases } from '../dist/src/validation.js';

const pct = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const ms = (s) => (s * 1e3).toFixed(2);
for (const name of ['h100-pcie-gen5', 'h200-pcie-gen5', 'gh200-c2c']) {
  const profile = loadProfile(name);
  const t = new TimingModel(profile, resolveModelShape('llama-3.1-8b'), 64);
  const b = profile.compute.batched;
  const own = !b.measured_on;
  console.log(`\n## ${name} (${own ? 'batched table measured on this GPU' : `batched ratios measured on ${b.measured_on}`})`);
  const one = t.iterationComputeSeconds([{ newTokens: 128, cachedTokens: 0 }], 0, 0).seconds;
  const eight = t.iterationComputeSeconds(Array.from({ length: 8 }, () => ({ newTokens: 128, cachedTokens: 0 })), 0, 0).seconds;
  console.log(`8 simultaneous 128-token prompts: ${(eight / one).toFixed(2)}x one alone (${ms(eight)} ms vs ${ms(one)} ms; the sum of the chunks would be 8x)`);
  for (const C of [1024, 4096]) {
    const parts = [8, 32, 64, 128].map((B) => {
      const apart = t.prefillSeconds(128, 0) + t.decodeStepSeconds(B, B * C);
      return `${B}: ${(t.iterationComputeSeconds([{ newTokens: 128, cachedTokens: 0 }], B, B * C).seconds / apart).toFixed(3)}`;
    });
    console.log(`128-token chunk with B decodes at context ${C}, share of the two apart: ${parts.join(', ')}`);
  }
  if (!own) continue;
  console.log('\n| pass | measured ms | model ms | error |');
  console.log('| --- | ---: | ---: | ---: |');
  let worst = 0;
  for (const [n, k, s] of b.chunks) {
    const m = t.iterationComputeSeconds(Array.from({ length: k }, () => ({ newTokens: n, cachedTokens: 0 })), 0, 0).seconds;
    worst = Math.max(worst, Math.abs(m / s - 1));
    console.log(`| ${k} x ${n} tokens | ${ms(s)} | ${ms(m)} | ${pct(m / s - 1)} |`);
  }
  for (const [n, B, C, s] of b.mixed) {
    const m = t.iterationComputeSeconds(n ? [{ newTokens: n, cachedTokens: 0 }] : [], B, B * C).seconds;
    worst = Math.max(worst, Math.abs(m / s - 1));
    console.log(`| ${n ? `${n} tokens + ` : ''}${B} decodes at ${C} | ${ms(s)} | ${ms(m)} | ${pct(m / s - 1)} |`);
  }
  console.log(`largest error: ${(100 * worst).toFixed(1)}%`);
  console.log('\noffload vs recompute, the probe\'s cases on this GPU against the model (recompute, onboard, GPU hit; speedup = recompute / onboard):');
  console.log('| prompt | new | recompute meas/sim s | onboard meas/sim s | hit meas/sim s | speedup meas / sim (error) |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of threeCases(name)) {
    const sm = r.measured.recomputeS / r.measured.onboardS, ss = r.simulated.recomputeS / r.simulated.onboardS;
    const p = (k) => `${r.measured[k].toFixed(4)} / ${r.simulated[k].toFixed(4)}`;
    console.log(`| ${r.promptTokens} | ${r.suffixTokens} | ${p('recomputeS')} | ${p('onboardS')} | ${p('gpuHitS')} | ${sm.toFixed(2)} / ${ss.toFixed(2)} (${pct(ss / sm - 1)}) |`);
  }
}
