import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Process management is product code (`kvbench up` and the demo use it); tests take it from there.
export { freePort, startNatsServer, waitFor, type NatsServerHandle } from '@kvbench/processes';

export async function tempDir(prefix = 'kvbench-test-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}
