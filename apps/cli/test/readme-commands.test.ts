// The README's commands run as written: every `./kvbench workload …` command of README.md (the
// standalone workload, the multi-turn and docqa scenarios, the Mooncake trace import with
// `--sample-roots 0.05` on the real conversation trace), each in a fresh directory holding
// `./kvbench` (this checkout's) and what the command reads. Commands that need a GPU engine or a
// model name the README leaves as `…` are not among them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { tempDir } from '@kvbench/testkit';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const TRACE = fileURLToPath(new URL('../../test/fixtures/mooncake/conversation_trace.jsonl.gz', import.meta.url));

/** Every `./kvbench workload` command in the README's bash blocks, continuation lines joined, comments kept off. */
export async function readmeWorkloadCommands(): Promise<string[]> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const commands: string[] = [];
  for (const block of blocks) {
    const joined = block.replace(/\\\n\s*/g, '');
    for (const line of joined.split('\n')) if (line.startsWith('./kvbench workload ')) commands.push(line);
  }
  return commands;
}

test('every ./kvbench workload command of the README runs as written', { timeout: 300_000 }, async () => {
  const commands = await readmeWorkloadCommands();
  const trace = commands.find((c) => c.includes('--format mooncake'));
  assert.ok(trace, 'the README has the trace example');
  assert.match(trace, /--sample-roots 0\.05/);
  assert.ok(commands.length >= 4, commands.join('\n'));
  for (const command of commands) {
    const dir = await tempDir('kvbench-readme-');
    try {
      await symlink(join(ROOT, 'kvbench'), join(dir.path, 'kvbench'));
      if (command.includes('conversation_trace.jsonl')) await writeFile(join(dir.path, 'conversation_trace.jsonl'), gunzipSync(await readFile(TRACE)));
      const out = execFileSync('bash', ['-euo', 'pipefail', '-c', command], { cwd: dir.path, encoding: 'utf8', timeout: 240_000 });
      const file = /--out (\S+)/.exec(command)![1]!;
      const doc = JSON.parse(await readFile(join(dir.path, file), 'utf8'));
      assert.equal(doc.schema, 'kvbench.workload', command);
      if (command === trace) {
        // One root (every conversation starts with the same system-prompt block): sampled by conversations.
        assert.match(out, /sampling kept \d+ of 7373 prefix trees/, out);
        assert.equal(doc.params.sampling.roots, 1);
        assert.ok(doc.requests.length > 100, `${doc.requests.length} requests kept`);
        assert.equal(doc.params.sampling.lines_kept, doc.requests.length);
        const show = execFileSync('bash', ['-c', `./kvbench workload show ${file}`], { cwd: dir.path, encoding: 'utf8' });
        assert.doesNotMatch(show, /"params": null/);
        assert.match(show, /"sampling"/);
      }
    } finally {
      await dir.cleanup();
    }
  }
});
