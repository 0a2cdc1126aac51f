// The workspace's layering: libraries (libs/) never depend on a service (services/) or an
// application (apps/) at run time, in their package.json or in their source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const packagesIn = (group: string) =>
  readdirSync(join(ROOT, group))
    .map((d) => join(ROOT, group, d))
    .filter((d) => statSync(d).isDirectory() && readdirSync(d).includes('package.json'))
    .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; dependencies?: Record<string, string> } }));

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });

test('libs/ never imports services/ or apps/', () => {
  const upper = new Set([...packagesIn('services'), ...packagesIn('apps')].map((p) => p.json.name));
  assert.ok(upper.has('@kvbench/engine-sim') && upper.has('@kvbench/cli'), 'the services and apps were found');
  const libs = packagesIn('libs');
  assert.ok(libs.length >= 5);
  for (const lib of libs) {
    const deps = Object.keys(lib.json.dependencies ?? {}).filter((d) => upper.has(d));
    assert.deepEqual(deps, [], `${lib.json.name} depends on ${deps.join(', ')}`);
    for (const file of sourceFiles(join(lib.dir, 'src'))) {
      const imports = [...readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\()\s*'(@kvbench\/[^'/]+)/g)].map((m) => m[1]!);
      const bad = imports.filter((i) => upper.has(i));
      assert.deepEqual(bad, [], `${file} imports ${bad.join(', ')}`);
    }
  }
});
