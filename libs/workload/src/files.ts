import { createHash } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NotFoundError, ValidationError } from '@kvbench/common';
import type { AnyWorkload, WorkloadDocument } from '@kvbench/common';
import { parseAnyWorkload, parseWorkload, type ParseOptions } from './parse.js';
import { seedFormatChunks } from './seed-format.js';
import { forEachPartBytes, serializeWorkloadParts } from './serialize.js';

export type WorkloadFormat = 'native' | 'seed';

/** Reads a workload file of the original batches, in either format. */
export async function readWorkloadFile(path: string, options: ParseOptions = {}): Promise<WorkloadDocument> {
  return parseWorkload(await readJson(path), options);
}

/** Reads any workload file: a scenario document, or the original batches in either format. */
export async function readAnyWorkloadFile(path: string, options: ParseOptions = {}): Promise<AnyWorkload> {
  return parseAnyWorkload(await readJson(path), options);
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError('workload file', path, { cause: err });
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${path} is not JSON: ${(err as Error).message}`, '(root)', { cause: err });
  }
  return json;
}

/** Writes `doc` (creating parent folders); returns the bytes written and the workload id. */
export async function writeWorkloadFile(
  path: string,
  doc: AnyWorkload,
  format: WorkloadFormat = 'native',
): Promise<{ bytes: number; id: string }> {
  if (format === 'seed' && doc.version === 2) throw new ValidationError(`--format seed: the original list format holds text batches, not a '${doc.kind}' workload of token ids`, 'format');
  await mkdir(dirname(path), { recursive: true });
  const native = serializeWorkloadParts(doc);
  const hash = createHash('sha256');
  const file = await open(path, 'w');
  let bytes = 0;
  try {
    // Native: one pass, each part's bytes hashed (for the id) and written.
    // Seed: the id is still the native document's, so hash that first, then write the seed text.
    if (format === 'seed' && doc.version === 1) await forEachPartBytes(native, (b) => void hash.update(b));
    await forEachPartBytes(format === 'native' || doc.version === 2 ? native : seedFormatChunks(doc), async (b) => {
      if (format === 'native') hash.update(b);
      bytes += b.length;
      for (let done = 0; done < b.length; ) done += (await file.write(b, done)).bytesWritten;
    });
  } finally {
    await file.close();
  }
  return { bytes, id: 'wl-' + hash.digest('hex').slice(0, 16) };
}
