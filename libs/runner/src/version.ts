/**
 * kvbench's own version and git commit for run_meta, best effort: read from the
 * workspace's package.json and .git next to this package. Absent when unknown,
 * never made up.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: libs/runner/dist/src → ../../../.. */
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export async function kvbenchVersion(): Promise<string | null> {
  try {
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { name?: string; version?: string };
    return pkg.name === 'kvbench' && pkg.version ? pkg.version : null;
  } catch {
    return null;
  }
}

/** HEAD's commit from .git without running git (which may be absent on an agent machine). */
export async function gitCommit(): Promise<string | null> {
  try {
    const gitDir = join(repoRoot, '.git');
    const head = (await readFile(join(gitDir, 'HEAD'), 'utf8')).trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const ref = /^ref:\s*(.+)$/.exec(head)?.[1];
    if (!ref) return null;
    try {
      return (await readFile(join(gitDir, ref), 'utf8')).trim();
    } catch {
      const packed = await readFile(join(gitDir, 'packed-refs'), 'utf8');
      const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
      return line ? line.split(' ')[0]! : null;
    }
  } catch {
    return null;
  }
}
