// Runs every compiled test file of every workspace package with node's test runner.
// Usage: node scripts/run-tests.mjs [package-dir-substring ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const filters = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
};
for (const group of ['libs', 'services', 'apps']) {
  for (const pkg of readdirSync(group)) {
    const dir = join(group, pkg, 'dist', 'test');
    if (!existsSync(dir)) continue;
    if (filters.length && !filters.some((f) => dir.includes(f))) continue;
    walk(dir);
  }
}
// deploy/ is no package: its tests are plain .mjs files (they use the packages' built dist).
if (existsSync('deploy/test') && (!filters.length || filters.some((f) => 'deploy/test'.includes(f)))) {
  for (const name of readdirSync('deploy/test')) if (name.endsWith('.test.mjs')) files.push(join('deploy/test', name));
}
if (files.length === 0) {
  console.error('no test files found: run `make build` first');
  process.exit(1);
}
// Integration tests start real processes; on 2 cores, two files at a time is the ceiling.
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
