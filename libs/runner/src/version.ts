/**
 * kvbench's own version and git commit for run_meta, best effort: read from the
 * workspace's package.json and .git next to this package. Absent when unknown,
 * never made up.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
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
    let gitDir = join(repoRoot, '.git');
    // A worktree's .git is a file pointing at its git dir.
    const dotGit = await readFile(gitDir, 'utf8').catch(() => null);
    if (dotGit !== null) {
      const m = /^gitdir:\s*(.+)$/m.exec(dotGit);
      if (!m) return null;
      gitDir = isAbsolute(m[1]!.trim()) ? m[1]!.trim() : join(repoRoot, m[1]!.trim());
    }
    const head = (await readFile(join(gitDir, 'HEAD'), 'utf8')).trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const ref = /^ref:\s*(.+)$/.exec(head)?.[1];
    if (!ref) return null;
    const common = await readFile(join(gitDir, 'commondir'), 'utf8').then((c) => (isAbsolute(c.trim()) ? c.trim() : join(gitDir, c.trim())), () => gitDir);
    for (const d of [gitDir, common]) {
      try {
        return (await readFile(join(d, ref), 'utf8')).trim();
      } catch {
        /* try the next place */
      }
    }
    {
      const packed = await readFile(join(common, 'packed-refs'), 'utf8');
      const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
      return line ? line.split(' ')[0]! : null;
    }
  } catch {
    return null;
  }
}
