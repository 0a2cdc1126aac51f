import { childSpans, memberSpan, rootSpan } from './json-locate.js';
import type { RunResult } from '@kvbench/common';

const UNIT = '  ';

/**
 * The text of a results document with `run` appended to `runs.<label>`. Only the new run
 * (and the comma or brackets it needs) is inserted: every other byte of the file stays as
 * it was, so runs the original tool wrote keep Python's number and escape forms exactly.
 * `text` has already been validated as a results document (a JSON object with a `runs` object).
 */
export function insertRun(text: string, label: string, run: RunResult): string {
  const runs = memberSpan(text, rootSpan(text), 'runs');
  if (!runs || text[runs.offset] !== '{') throw new Error('not a results document: "runs" is not an object');
  const list = memberSpan(text, runs, label);
  if (list && text[list.offset] !== '[') throw new Error(`runs.${label} is not a list of runs`);

  const owner = list ?? runs;
  const ownerIndent = lineIndent(text, owner.offset);
  const childIndent = ownerIndent + UNIT;
  const item = list
    ? pretty(run, childIndent)
    : `${JSON.stringify(label)}: [\n${childIndent}${UNIT}${pretty(run, childIndent + UNIT)}\n${childIndent}]`;
  const last = childSpans(text, owner)?.at(-1);
  if (last) return splice(text, last.end, `,\n${childIndent}${item}`);
  // An empty [] or {}: the new item goes between its brackets.
  return splice(text, owner.offset + 1, `\n${childIndent}${item}\n${ownerIndent}`);
}

function pretty(value: unknown, indent: string): string {
  return JSON.stringify(value, null, 2).replaceAll('\n', `\n${indent}`);
}

function splice(text: string, at: number, insert: string): string {
  return text.slice(0, at) + insert + text.slice(at);
}

/** The leading whitespace of the line that holds `offset`. */
function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start, offset))![0];
}
