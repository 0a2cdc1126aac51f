// What the tests that run the README's blocks share (readme-commands.test.ts, readme-services.test.ts):
// the blocks as command lines, and `trtllm-serve` on PATH as the TensorRT-LLM double. A helper, not a
// test file: importing a *.test.js would run its tests in the importer too.
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DOUBLE = join(ROOT, 'libs', 'runner', 'test', 'fixtures', 'trtllm-serve-double.mjs');

/** Every bash block of the README as its command lines: continuation lines joined, comments and blank lines dropped. */
export async function readmeBlocks(): Promise<string[][]> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) =>
    m[1]!
      .replace(/\\\n\s*/g, '')
      .split('\n')
      .map((l) => l.replace(/\s+#\s.*$/, '').trim())
      .filter((l) => l !== '' && !l.startsWith('#')),
  );
}

/**
 * Writes `bin/trtllm-serve`: the TensorRT-LLM double (libs/runner/test/fixtures/trtllm-serve-double.mjs)
 * as today's main, 1.3.0rc26, speaking its wire format (docs/ENGINES.md). Put `bin` first on PATH.
 */
export async function writeTrtllmServeDouble(bin: string): Promise<void> {
  await writeFile(join(bin, 'trtllm-serve'), `#!/bin/sh\nFAKE_TRTLLM_VERSION=1.3.0rc26 exec "${process.execPath}" "${DOUBLE}" "$@"\n`);
  await chmod(join(bin, 'trtllm-serve'), 0o755);
}

/** The README's "Through the services" block, named by a command only it has; readme-services.test.ts runs it. */
export const SERVICES_BLOCK = { name: 'services', has: /^\.\/kvbench bench --api \$API .*--system_label pcie/, file: 'readme-services.test.ts' };
