/**
 * The simulator's shipped hardware profiles (profiles/<name>.json) and how a run picks one. The
 * profile format itself, and the model shapes it is read with, live in @kvbench/hardware, which
 * the GPU probe shares.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@kvbench/common';
import { parseProfile, type Profile } from '@kvbench/hardware';

export * from '@kvbench/hardware/profile-schema';

/** services/engine-sim/profiles, found from this compiled file (dist/src/profile.js) or the source. */
export const PROFILES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'profiles');

/** Names of the profiles shipped in PROFILES_DIR. */
export function listProfiles(dir = PROFILES_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

/** Validate a parsed profile document; throws ValidationError naming the field. */
/**
 * Load a profile by shipped name (`h100-pcie-gen5`) or by path to a JSON file
 * (anything containing a `/` or ending in `.json`).
 */
export function loadProfile(nameOrPath: string, dir = PROFILES_DIR): Profile {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  const file = isPath ? resolve(nameOrPath) : join(dir, `${nameOrPath}.json`);
  if (!existsSync(file)) {
    throw new ConfigError(
      `unknown simulator profile '${nameOrPath}'; shipped profiles: ${listProfiles(dir).join(', ') || '(none)'}; or give a path to a JSON file`,
      'profile',
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`profile ${file} is not valid JSON: ${(err as Error).message}`, 'profile', { cause: err });
  }
  return parseProfile(doc, `profile ${file}`);
}

/** System label → default profile name (pcie → h100-pcie-gen5, c2c → gh200-c2c). */
const SYSTEM_PROFILES: Readonly<Record<string, string>> = Object.freeze({
  pcie: 'h100-pcie-gen5',
  c2c: 'gh200-c2c',
});

/** Profile for labels with no mapping of their own (a PCIe-attached H100 is the common case). */
export const FALLBACK_PROFILE = 'h100-pcie-gen5';

/** The profile a system label gets when none is named; unknown labels get FALLBACK_PROFILE. */
export function defaultProfileForSystem(label: string): string {
  return SYSTEM_PROFILES[label] ?? FALLBACK_PROFILE;
}
