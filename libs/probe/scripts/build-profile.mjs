#!/usr/bin/env node
// Build a simulator profile from committed probe output (no GPU needed):
//   node libs/probe/scripts/build-profile.mjs <raw.json> <name> [system] > profile.json
// e.g. node libs/probe/scripts/build-profile.mjs services/engine-sim/profiles/measured/h100-pcie-gen5.raw.json h100-pcie-gen5 pcie
// The raw file is cited in the profile by its path relative to services/engine-sim.
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProfile, parseProbeRawText, profileJson } from '../dist/src/index.js';

const [rawPath, name, system] = process.argv.slice(2);
if (!rawPath || !name) {
  console.error('usage: build-profile.mjs <raw.json> <name> [system]');
  process.exit(2);
}
const simDir = fileURLToPath(new URL('../../../services/engine-sim/', import.meta.url));
const raw = parseProbeRawText(readFileSync(rawPath, 'utf8'), rawPath);
const built = buildProfile(raw, { name, ...(system ? { system } : {}), rawSource: relative(simDir, resolve(rawPath)) });
for (const w of built.warnings) console.error(`warning: ${w}`);
console.error(`decode fit: ${JSON.stringify(built.decodeFit)}`);
process.stdout.write(profileJson(built.profile));
