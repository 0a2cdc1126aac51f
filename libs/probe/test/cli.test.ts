import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildProfile, parseProbeRaw, profileJson } from '../src/index.js';
import { MEASURED_DIR, readJson } from './helpers.js';

const run = promisify(execFile);
// The compiled CLI of this checkout (apps/cli/dist), built by `tsc -b` (it depends on this package).
const main = fileURLToPath(new URL('../../../../apps/cli/dist/src/main.js', import.meta.url));
const built = existsSync(main);
const kvbench = (args: string[]) => run(process.execPath, [main, ...args]);

test('kvbench probe --from_raw writes the profile the builder makes, named after the file', { skip: !built && 'apps/cli is not built' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kvbench-probe-cli-'));
  try {
    const rawPath = join(MEASURED_DIR, 'h100-pcie-gen5.raw.json');
    const out = join(dir, 'my-h100.json');
    await kvbench(['probe', '--from_raw', rawPath, '--out', out, '--system', 'pcie']);
    const expected = buildProfile(parseProbeRaw(readJson(rawPath)), { name: 'my-h100', system: 'pcie', rawSource: rawPath });
    assert.equal(await readFile(out, 'utf8'), profileJson(expected.profile));
    await assert.rejects(kvbench(['probe', '--quick', '--out', out]), /builds no profile/);
    await assert.rejects(kvbench(['probe', '--from_raw', join(dir, 'missing.json')]), /not found/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('kvbench probe on a machine without CUDA exits non-zero with the probe\'s message', { skip: !built && 'apps/cli is not built' }, async () => {
  const e = await kvbench(['probe', '--quick']).then(() => null, (err: { code: number; stderr: string }) => err);
  assert.ok(e, 'exits non-zero');
  assert.ok(e.code === 3 || e.code === 4, `exit code ${e.code}`);
  assert.match(e.stderr, /PyTorch is not installed|no CUDA device/);
});
