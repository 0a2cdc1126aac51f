import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** services/engine-sim/profiles of this checkout (from libs/probe/dist/test). */
export const PROFILES_DIR = fileURLToPath(new URL('../../../../services/engine-sim/profiles/', import.meta.url));
export const MEASURED_DIR = join(PROFILES_DIR, 'measured');

/** Committed probe outputs: measured/*.raw.json. */
export function rawFiles(): string[] {
  return readdirSync(MEASURED_DIR)
    .filter((f) => f.endsWith('.raw.json'))
    .sort()
    .map((f) => join(MEASURED_DIR, f));
}

export const readText = (p: string): string => readFileSync(p, 'utf8');
export const readJson = (p: string): unknown => JSON.parse(readText(p));
