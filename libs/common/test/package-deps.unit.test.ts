// Every package depends only on what it uses: its package.json lists each package its source imports
// (its tests: dependencies or devDependencies), and nothing its source never names. The contracts and
// the pure libraries carry no I/O dependency, even transitively: @kvbench/report has no @nats-io.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
interface Pkg {
  dir: string;
  name: string;
  deps: string[];
  devDeps: string[];
}
const packages: Pkg[] = ['libs', 'services', 'apps'].flatMap((group) =>
  readdirSync(join(ROOT, group))
    .map((d) => join(ROOT, group, d))
    .filter((d) => existsSync(join(d, 'package.json')))
    .map((dir) => {
      const j = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; dependencies?: object; devDependencies?: object };
      return { dir, name: j.name, deps: Object.keys(j.dependencies ?? {}), devDeps: Object.keys(j.devDependencies ?? {}) };
    }),
);
const byName = new Map(packages.map((p) => [p.name, p]));

const sourceFiles = (dir: string): string[] =>
  !existsSync(dir)
    ? []
    : readdirSync(dir).flatMap((n) => {
        const p = join(dir, n);
        return statSync(p).isDirectory() ? sourceFiles(p) : /\.(ts|mts|mjs)$/.test(n) ? [p] : [];
      });
const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
/** Packages a file imports: static imports and re-exports, side-effect imports, dynamic import() of a literal. */
const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s[^;'"`]*?from\s*'([^'.][^']*)'|^\s*import\s+'([^'.][^']*)'|\bimport\(\s*'([^'.][^']*)'\s*\)/gm)]
    .map((m) => m[1] ?? m[2] ?? m[3]!)
    .filter((s) => !s.startsWith('node:'))
    .map(packageOf);
/** Every package name a file mentions in a string (a child's entry resolved by name counts as a use). */
const namedIn = (file: string): string[] => [...readFileSync(file, 'utf8').matchAll(/'((?:@[\w.-]+\/)?[\w.-]+)(?:\/[^']*)?'/g)].map((m) => m[1]!);

test('each package.json lists what its source and tests import', () => {
  assert.ok(byName.has('@kvbench/bus') && byName.has('@kvbench/report'), 'the packages were found');
  for (const p of packages) {
    for (const [sub, allowed] of [['src', p.deps], ['test', [...p.deps, ...p.devDeps]]] as const) {
      for (const file of sourceFiles(join(p.dir, sub))) {
        const missing = importsOf(file).filter((i) => i !== p.name && !allowed.includes(i));
        assert.deepEqual(missing, [], `${file.slice(ROOT.length)} imports ${missing.join(', ')}, which ${p.name} does not list`);
      }
    }
  }
});

test('no package lists a dependency its source never uses', () => {
  for (const p of packages) {
    const used = new Set(sourceFiles(join(p.dir, 'src')).flatMap((f) => [...importsOf(f), ...namedIn(f)]));
    const unused = p.deps.filter((d) => !used.has(d));
    assert.deepEqual(unused, [], `${p.name} depends on ${unused.join(', ')} but its src never uses it (a test-only one is a devDependency)`);
  }
});

test('contracts and pure libraries have no I/O dependency, not even through another package', () => {
  const closure = (name: string, seen = new Set<string>()): Set<string> => {
    for (const d of byName.get(name)?.deps ?? []) {
      if (seen.has(d)) continue;
      seen.add(d);
      closure(d, seen);
    }
    return seen;
  };
  for (const pure of ['@kvbench/common', '@kvbench/report', '@kvbench/workload', '@kvbench/hardware']) {
    const io = [...closure(pure)].filter((d) => d.startsWith('@nats-io/') || ['pino', 'better-sqlite3', 'fastify'].includes(d));
    assert.deepEqual(io, [], `${pure} depends on ${io.join(', ')}`);
  }
  // The bus is the only library that talks NATS.
  const libsOnNats = packages.filter((p) => p.dir.includes('/libs/') && p.deps.some((d) => d.startsWith('@nats-io/'))).map((p) => p.name);
  assert.deepEqual(libsOnNats, ['@kvbench/bus']);
});
