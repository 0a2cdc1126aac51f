#!/usr/bin/env node
// Rebuild the probe-measured profiles shipped with the simulator from their raw files
// (libs/probe/scripts/shipped-profiles.json), then gh200-c2c, which derives from h100-pcie-gen5:
//   node libs/probe/scripts/build-shipped-profiles.mjs
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProfile, parseProbeRawText, profileJson } from '../dist/src/index.js';

const simDir = fileURLToPath(new URL('../../../services/engine-sim/', import.meta.url));
const spec = JSON.parse(readFileSync(new URL('./shipped-profiles.json', import.meta.url), 'utf8'));
const raw = (rel) => parseProbeRawText(readFileSync(join(simDir, rel), 'utf8'), rel);
for (const p of spec.profiles) {
  const built = buildProfile(raw(p.raw), {
    name: p.name,
    ...(p.system ? { system: p.system } : {}),
    rawSource: p.raw,
    ...(p.cached_from ? { cachedPrefillFrom: { raw: raw(p.cached_from), rawSource: p.cached_from, reason: p.cached_reason } } : {}),
    ...(p.later ? { laterRuns: p.later.map((l) => ({ raw: raw(l.raw), rawSource: l.raw, ...(l.reason ? { reason: l.reason } : {}) })) } : {}),
  });
  for (const w of built.warnings) console.error(`${p.name}: warning: ${w}`);
  const out = join(simDir, 'profiles', `${p.name}.json`);
  writeFileSync(out, profileJson(built.profile));
  console.log(`wrote ${out}`);
}
execFileSync(process.execPath, [join(simDir, 'scripts', 'build-gh200-profile.mjs')], { stdio: 'inherit' });
