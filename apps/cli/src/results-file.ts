import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { ResultsDocument, ValidationError, parseOrThrow, type RunResult } from '@kvbench/common';

/** Read benchmark_results.json; a missing file is an empty document. */
export async function readResultsFile(path: string): Promise<ResultsDocument> {
  if (!existsSync(path)) return { runs: {} };
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ValidationError(`${path} is not valid JSON; refusing to overwrite it`, 'output_json', { cause: err });
  }
  return parseOrThrow(ResultsDocument, json, `results file ${path}`);
}

/**
 * Append a run under runs.<label>, keeping every earlier run of every system, as the
 * original documents. Written to a temporary file and renamed, so a crash never
 * leaves a half-written results file.
 */
export async function mergeRunIntoResultsFile(path: string, label: string, run: RunResult): Promise<ResultsDocument> {
  const doc = await readResultsFile(path);
  (doc.runs[label] ??= []).push(run);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(doc, null, 2) + '\n');
  await rename(tmp, path);
  return doc;
}
