#!/usr/bin/env node
// Build a simulator profile from committed probe output (no GPU needed):
//   node libs/probe/scripts/build-profile.mjs <raw.json> <name> [system] [--cached_from <raw.json> --cached_reason <text>] > profile.json
// e.g. node libs/probe/scripts/build-profile.mjs services/engine-sim/profiles/measured/h200-pcie-gen5.raw.json h200-pcie-gen5
// The raw files are cited in the profile by their paths relative to services/engine-sim.
// --cached_from takes compute.prefill_cached from another machine's output (one whose GPU was lent
// when this one's was not); --cached_reason says why, in the profile.
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildProfile, parseProbeRawText, profileJson } from '../dist/src/index.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { cached_from: { type: 'string' }, cached_reason: { type: 'string' } },
});
const [rawPath, name, system] = positionals;
if (!rawPath || !name || (values.cached_from && !values.cached_reason)) {
  console.error('usage: build-profile.mjs <raw.json> <name> [system] [--cached_from <raw.json> --cached_reason <text>]');
  process.exit(2);
}
const simDir = fileURLToPath(new URL('../../../services/engine-sim/', import.meta.url));
const cite = (p) => relative(simDir, resolve(p));
const raw = parseProbeRawText(readFileSync(rawPath, 'utf8'), rawPath);
const cachedPrefillFrom = values.cached_from
  ? { raw: parseProbeRawText(readFileSync(values.cached_from, 'utf8'), values.cached_from), rawSource: cite(values.cached_from), reason: values.cached_reason }
  : undefined;
const built = buildProfile(raw, { name, ...(system ? { system } : {}), rawSource: cite(rawPath), ...(cachedPrefillFrom ? { cachedPrefillFrom } : {}) });
for (const w of built.warnings) console.error(`warning: ${w}`);
console.error(`decode fit: ${JSON.stringify(built.decodeFit)}`);
process.stdout.write(profileJson(built.profile));
