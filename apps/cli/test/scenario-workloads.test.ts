// Scenario workloads from the command line: generate, import, show; bad input refused with the
// flag or trace line named and no file written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@kvbench/testkit';
import { parseAnyWorkload, serializeWorkload, generateMultiturn } from '@kvbench/workload';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const kvbench = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
const MT = ['--kind', 'multiturn', '--sessions', '3', '--turns', '2', '--turn-tokens', '32', '--answer-tokens', '8', '--active-sessions', '2', '--shared-prefix-tokens', '64', '--seed', '3'];

test('workload generate --kind multiturn writes the same bytes as the library; show summarizes it; import reads a Mooncake trace', async () => {
  const dir = await tempDir();
  try {
    const out = join(dir.path, 'mt.json');
    const r = kvbench(['workload', 'generate', ...MT, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const text = await readFile(out, 'utf8');
    const lib = generateMultiturn({ sessions: 3, turns: 2, turn_tokens: 32, answer_tokens: 8, active_sessions: 2, shared_prefix_tokens: 64, seed: 3 });
    assert.equal(text, serializeWorkload(lib));
    const show = kvbench(['workload', 'show', out]);
    assert.equal(show.status, 0, show.stderr);
    assert.equal(JSON.parse(show.stdout.slice(show.stdout.indexOf('{'))).kind, 'multiturn');

    const trace = join(dir.path, 't.jsonl');
    await writeFile(trace, [{ timestamp: 0, input_length: 700, output_length: 3, hash_ids: [5, 6] }, { timestamp: 9, input_length: 512, output_length: 3, hash_ids: [5] }].map((l) => JSON.stringify(l)).join('\n'));
    const imp = kvbench(['workload', 'import', '--format', 'mooncake', trace, '--block-tokens', '512', '--out', join(dir.path, 'tr.json')]);
    assert.equal(imp.status, 0, imp.stderr);
    const doc = parseAnyWorkload(JSON.parse(await readFile(join(dir.path, 'tr.json'), 'utf8')));
    assert.equal(doc.version === 2 && doc.kind, 'trace');
    // The original format cannot hold token ids.
    const seed = kvbench(['workload', 'generate', ...MT, '--format', 'seed', '--out', join(dir.path, 's.json')]);
    assert.equal(seed.status, 2);
    assert.match(seed.stderr, /--format seed/);
  } finally {
    await dir.cleanup();
  }
});

test('bad input: a CLI error naming the flag or the trace line, exit 2, nothing written', async () => {
  const dir = await tempDir();
  try {
    const out = join(dir.path, 'w.json');
    const cases: Array<[string[], RegExp]> = [
      [['workload', 'generate', ...MT.map((a) => (a === '2' ? '0' : a)), '--out', out], /--turns/],
      [['workload', 'generate', '--kind', 'docqa', '--documents', '2', '--document-tokens', '64', '--question-tokens', '4', '--arrival', 'poisson', '--out', out], /--rate/],
      [['workload', 'generate', '--kind', 'multiturn', '--sessions', '1', '--turns', 'normal:3', '--turn-tokens', '4', '--answer-tokens', '1', '--active-sessions', '1', '--out', out], /--turns: 'normal:3'/],
      [['workload', 'generate', '--kind', 'chat', '--out', out], /--kind: 'chat'/],
    ];
    for (const [args, message] of cases) {
      const r = kvbench(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(existsSync(out), false);
    }
    const trace = join(dir.path, 'bad.jsonl');
    await writeFile(trace, `${JSON.stringify({ timestamp: 0, input_length: 10, output_length: 1, hash_ids: [1] })}\n${JSON.stringify({ timestamp: 1, input_length: 10, output_length: 1 })}\n`);
    const r = kvbench(['workload', 'import', '--format', 'mooncake', trace, '--out', out]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /trace line 2: hash_ids/);
    assert.equal(existsSync(out), false);
  } finally {
    await dir.cleanup();
  }
});
