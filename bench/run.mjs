// `make bench`: runs every bench/*.bench.mjs, prints one table, and writes
// bench/results/latest.json and latest.md with the machine, the commit and every figure.
// Each bench module exports `run()` → [{ bench, metric, value, unit, target, pass, notes? }].
// A missed target is reported, never hidden; the exit code stays 0 unless a bench crashed.
import { execSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const sh = (cmd) => {
  try {
    return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
};
const machine = {
  hostname: hostname(),
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memory_gib: +(totalmem() / 2 ** 30).toFixed(1),
  node: process.version,
  commit: sh('git rev-parse --short HEAD'),
  dirty: Boolean(sh('git status --porcelain')),
  date: new Date().toISOString(),
};

const rows = [];
let crashed = 0;
for (const f of files) {
  process.stderr.write(`== ${f}\n`);
  const started = Date.now();
  try {
    const mod = await import(pathToFileURL(join(here, f)).href);
    for (const r of await mod.run()) rows.push({ file: f, ...r });
  } catch (err) {
    crashed++;
    rows.push({ file: f, bench: f, metric: 'crashed', value: null, unit: '', target: '', pass: false, notes: String(err?.stack ?? err) });
  }
  process.stderr.write(`   ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

const fmt = (v) => (typeof v === 'number' ? (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(4)) : String(v ?? '-'));
const verdict = (p) => (p === true ? 'met' : p === false ? 'MISSED' : '-');
const table = [
  '| bench | metric | value | unit | target | result |',
  '| --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.bench} | ${r.metric} | ${fmt(r.value)} | ${r.unit ?? ''} | ${r.target ?? ''} | ${verdict(r.pass)} |`),
].join('\n');
console.log(table);
const notes = rows.filter((r) => r.notes).map((r) => `- ${r.bench} / ${r.metric}: ${r.notes}`);

mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'latest.json'), JSON.stringify({ machine, results: rows }, null, 2) + '\n');
writeFileSync(
  join(here, 'results', 'latest.md'),
  `# kvbench benchmarks\n\nMachine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, Node ${machine.node}; ` +
    `commit ${machine.commit}${machine.dirty ? ' (dirty)' : ''}; ${machine.date}.\n\n${table}\n` +
    (notes.length ? `\nNotes:\n${notes.join('\n')}\n` : ''),
);
process.exit(crashed ? 1 : 0);
