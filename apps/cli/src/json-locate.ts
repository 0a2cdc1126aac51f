/**
 * Where values stand in the text of a valid JSON document, found without building its tree: a
 * results file holds every run's telemetry series (10^5 points a run on the seed workload), and
 * jsonc-parser's parseTree made a node of each value (seconds and gigabytes of garbage per merge) just
 * to find where runs.<label> ends. This scans once to the values asked for, skipping strings with
 * indexOf and nested values by depth. The text must be JSON (results-file.ts has parsed it).
 */

/** A value's [offset, end) in the text, with its key when it is an object member. */
export interface JsonSpan {
  key: string | null;
  offset: number;
  end: number;
}

const isWs = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

function skipWs(t: string, i: number): number {
  while (i < t.length && isWs(t.charCodeAt(i))) i++;
  return i;
}

/** `i` at a string's opening quote: the index after its closing quote. */
function stringEnd(t: string, i: number): number {
  for (let j = i + 1; ; ) {
    const q = t.indexOf('"', j);
    if (q < 0) throw new Error(`unterminated string at ${i}`);
    let slashes = 0;
    for (let k = q - 1; t.charCodeAt(k) === 92; k--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** `i` at a value's first character: the index after it. */
export function valueEnd(t: string, i: number): number {
  const c = t.charCodeAt(i);
  if (c === 34) return stringEnd(t, i);
  if (c === 123 || c === 91) {
    let depth = 0;
    for (let j = i; j < t.length; ) {
      const d = t.charCodeAt(j);
      if (d === 34) {
        j = stringEnd(t, j);
        continue;
      }
      if (d === 123 || d === 91) depth++;
      else if ((d === 125 || d === 93) && --depth === 0) return j + 1;
      j++;
    }
    throw new Error(`unterminated ${c === 123 ? 'object' : 'array'} at ${i}`);
  }
  let j = i;
  for (let d = t.charCodeAt(j); j < t.length && d !== 44 && d !== 125 && d !== 93 && !isWs(d); d = t.charCodeAt(++j));
  return j;
}

/** The first value of the document (its root). */
export function rootSpan(t: string): JsonSpan {
  const offset = skipWs(t, 0);
  return { key: null, offset, end: valueEnd(t, offset) };
}

/** The members of the object, or the elements of the array, at `span`; null for any other value. */
export function childSpans(t: string, span: JsonSpan): JsonSpan[] | null {
  const open = t.charCodeAt(span.offset);
  if (open !== 123 && open !== 91) return null;
  const isObject = open === 123;
  const out: JsonSpan[] = [];
  let j = skipWs(t, span.offset + 1);
  if (t.charCodeAt(j) === (isObject ? 125 : 93)) return out;
  for (;;) {
    let key: string | null = null;
    if (isObject) {
      const keyEnd = stringEnd(t, j);
      key = JSON.parse(t.slice(j, keyEnd)) as string;
      j = skipWs(t, skipWs(t, keyEnd) + 1); // past the colon
    }
    const end = valueEnd(t, j);
    out.push({ key, offset: j, end });
    j = skipWs(t, end);
    if (t.charCodeAt(j) !== 44) return out;
    j = skipWs(t, j + 1);
  }
}

/** The value of the object member `key` at `span` (the first, as jsonc-parser's findNodeAtLocation), or null. */
export function memberSpan(t: string, span: JsonSpan, key: string): JsonSpan | null {
  return childSpans(t, span)?.find((c) => c.key === key) ?? null;
}
