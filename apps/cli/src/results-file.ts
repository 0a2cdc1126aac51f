import { constants } from 'node:fs';
import { access, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import { ResultsFileError, parseResultsFile, type ResultsFile, type RunResult } from '@kvbench/common';
import { insertRun } from './results-insert.js';
import { isVirtualRun, provenanceFileName, splitProvenance, type ExecutionProvenance } from './provenance.js';

/**
 * benchmark_results.json is shared: runs of kvbench and of the original tool accumulate in it,
 * and two `kvbench bench` processes may finish into it at once. Merges hold a lock
 * (`<file>.lock`, proper-lockfile: an atomic mkdir, refreshed while held, taken over once stale),
 * re-read the file under it, insert the new run into the existing text (every earlier run kept
 * byte for byte) and replace the file by an atomic rename.
 */

/** A lock not refreshed for this long belongs to a process that died; it is taken over. */
const LOCK_STALE_MS = 20_000;
/** How long a merge waits for another process's merge (about a minute in all). */
const LOCK_RETRIES = { retries: 40, factor: 1.3, minTimeout: 50, maxTimeout: 2_000, randomize: true };

interface ReadResults {
  text: string;
  doc: ResultsFile;
}

const errCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** Read and validate a results file; null when it does not exist or is empty (a new document). */
export async function readResultsFile(path: string): Promise<ReadResults | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ResultsFileError(path, `cannot be read (${errCode(err)})`, { cause: err });
  }
  if (text.trim() === '') return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ResultsFileError(path, `is not valid JSON (${(err as Error).message}); refusing to overwrite it`, { cause: err });
  }
  try {
    return { text, doc: parseResultsFile(json, 'results document') };
  } catch (err) {
    throw new ResultsFileError(path, `${(err as Error).message}; refusing to overwrite it`, { cause: err });
  }
}

/**
 * Everything a merge at the end of a run will need, checked before any engine starts:
 * the file is a results document (kvbench's or the original tool's) that can be read and
 * written, or it does not exist yet and its directory takes new files (the temporary file
 * and the lock are created beside it).
 */
export async function checkResultsFile(path: string): Promise<void> {
  const dir = dirname(path);
  let exists = true;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new ResultsFileError(path, 'is a directory, not a results file');
    if (!st.isFile()) throw new ResultsFileError(path, 'is not a regular file');
  } catch (err) {
    if (err instanceof ResultsFileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new ResultsFileError(path, `cannot be created: a part of its path is a file, not a directory`, { cause: err });
    if (code !== 'ENOENT') throw new ResultsFileError(path, `cannot be examined (${errCode(err)})`, { cause: err });
    exists = false;
  }
  if (exists) {
    await access(path, constants.R_OK | constants.W_OK).catch((err) => {
      throw new ResultsFileError(path, `is not readable and writable (${errCode(err)})`, { cause: err });
    });
    await readResultsFile(path);
  } else {
    const st = await stat(dir).catch((err) => {
      throw new ResultsFileError(path, `cannot be created: its directory ${dir} does not exist (${errCode(err)})`, { cause: err });
    });
    if (!st.isDirectory()) throw new ResultsFileError(path, `cannot be created: ${dir} is not a directory`);
  }
  // A real file created and removed rather than access(), which root passes on any chmod'ed
  // directory: creating a file beside the results file is exactly what the merge will do.
  const probe = join(dir, `.${basename(path)}.kvbench-check-${process.pid}`);
  try {
    await (await open(probe, 'wx')).close();
    await unlink(probe);
  } catch (err) {
    throw new ResultsFileError(path, `its directory ${dir} does not take new files (${errCode(err)}): the merge writes a temporary file there`, {
      cause: err,
    });
  }
}

/**
 * Append a run under runs.<label>, under the file's lock; every earlier run is kept as it was. A
 * virtual-clock run is appended as its modelled content only, and this execution's provenance goes to
 * `<name>.provenance.json` beside the file, under the same lock (provenance.ts).
 */
export async function mergeRunIntoResultsFile(path: string, label: string, run: RunResult): Promise<void> {
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, {
      realpath: false,
      stale: LOCK_STALE_MS,
      retries: LOCK_RETRIES,
      onCompromised: (err) => {
        compromised = err;
      },
    });
  } catch (err) {
    throw new ResultsFileError(path, `could not take its lock ${path}.lock (${errCode(err)}): another merge holds it`, { cause: err });
  }
  try {
    const current = await readResultsFile(path);
    const split = isVirtualRun(run) ? splitProvenance(run, label, provenanceFileName(path)) : null;
    const entry = split?.result ?? run;
    const text = current ? insertRun(current.text, label, entry) : JSON.stringify({ runs: { [label]: [entry] } }, null, 2) + '\n';
    if (compromised) throw new ResultsFileError(path, `lost its lock while merging (${compromised.message})`, { cause: compromised });
    await writeFileAtomic(path, text).catch((err: unknown) => {
      throw new ResultsFileError(path, `cannot be written (${errCode(err)})`, { cause: err });
    });
    if (split) await appendProvenance(join(dirname(path), provenanceFileName(path)), split.provenance);
  } finally {
    await release().catch(() => {});
  }
}

/** The provenance file: `{ schema, executions: [...] }`, one entry appended per virtual execution (called under the results file's lock). */
async function appendProvenance(path: string, entry: ExecutionProvenance): Promise<void> {
  let doc: { schema: string; executions: ExecutionProvenance[] } = { schema: 'kvbench.provenance', executions: [] };
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { executions?: unknown }).executions)) doc = parsed as typeof doc;
    else throw new ResultsFileError(path, 'is not a provenance file (no "executions" list); refusing to overwrite it');
  } catch (err) {
    if (err instanceof ResultsFileError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ResultsFileError(path, `cannot be read as a provenance file (${errCode(err)}); refusing to overwrite it`, { cause: err });
  }
  doc.executions.push(entry);
  await writeFileAtomic(path, JSON.stringify(doc, null, 2) + '\n').catch((err: unknown) => {
    throw new ResultsFileError(path, `cannot be written (${errCode(err)})`, { cause: err });
  });
}

export type SavedRun =
  | { merged: true; path: string }
  /** The merge failed; the run is in a results document of its own at `path`. */
  | { merged: false; path: string; error: ResultsFileError };

/**
 * Merge a finished run into its results file; if that fails, never lose it: write it beside
 * the file as `<name>.<run_id>.json` (a results document of its own, readable by `kvbench
 * report`), or in the temporary directory when that directory takes no file either.
 */
export async function saveRun(path: string, label: string, run: RunResult): Promise<SavedRun> {
  try {
    await mergeRunIntoResultsFile(path, label, run);
    return { merged: true, path };
  } catch (err) {
    const error = err instanceof ResultsFileError ? err : new ResultsFileError(path, `merge failed (${(err as Error).message})`, { cause: err });
    const name = sideFileName(path, run);
    const text = JSON.stringify({ runs: { [label]: [run] } }, null, 2) + '\n';
    const tried: string[] = [];
    for (const dir of [dirname(path), tmpdir()]) {
      const side = join(dir, name);
      try {
        await writeFile(side, text, { flag: 'wx' });
        return { merged: false, path: side, error };
      } catch (sideErr) {
        tried.push(`${side}: ${errCode(sideErr)}`);
      }
    }
    throw new ResultsFileError(path, `${error.message}; and the run could not be saved beside it either (${tried.join('; ')})`, { cause: error });
  }
}

/** Say where the run went; a run saved beside its results file is an error (exit 1) that loses nothing. */
export function reportSaved(saved: SavedRun, label: string): number {
  if (saved.merged) {
    console.log(`merged into ${saved.path} under runs.${label}`);
    return 0;
  }
  console.error(`kvbench: ${saved.error.message}`);
  console.error(`kvbench: the run is saved in ${saved.path} (a results document of its own: \`kvbench report ${saved.path}\` reads it)`);
  return 1;
}

/** benchmark_results.json → benchmark_results.<run_id>.json */
export function sideFileName(path: string, run: RunResult): string {
  const runId = (run.run_meta as { run_id?: unknown }).run_id;
  const id = typeof runId === 'string' && /^[\w.-]+$/.test(runId) ? runId : `run-${Date.now()}`;
  const base = basename(path);
  const stem = base.toLowerCase().endsWith('.json') ? base.slice(0, -5) : base;
  return `${stem}.${id}.json`;
}
