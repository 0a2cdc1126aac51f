/**
 * A parser for the Prometheus text exposition format (version 0.0.4), the
 * `/metrics` of vLLM and SGLang. It tokenizes each line — metric name, label set
 * with escaped values, value, optional timestamp — rather than pattern-matching
 * the body, so label values containing commas, braces, quotes or "}" parse right.
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp: number | null;
}

export interface PromFamily {
  name: string;
  type: string;
  help: string;
  samples: PromSample[];
}

export interface PromText {
  families: Map<string, PromFamily>;
  samples: PromSample[];
}

export class PrometheusParseError extends Error {
  constructor(message: string, readonly line: number) {
    super(`Prometheus text, line ${line}: ${message}`);
  }
}

const FAMILY_SUFFIXES = ['_total', '_bucket', '_sum', '_count', '_created', '_info', '_gsum', '_gcount'];

function parseValue(s: string, line: number): number {
  switch (s) {
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
  }
  const v = Number(s);
  if (s === '' || Number.isNaN(v)) throw new PrometheusParseError(`bad value '${s}'`, line);
  return v;
}

const isNameStart = (c: string) => /[a-zA-Z_:]/.test(c);
const isNameChar = (c: string) => /[a-zA-Z0-9_:]/.test(c);

function parseSampleLine(text: string, lineNo: number): PromSample {
  let i = 0;
  const len = text.length;
  const skipSpaces = () => {
    while (i < len && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  if (!isNameStart(text[i] ?? '')) throw new PrometheusParseError(`expected a metric name`, lineNo);
  const start = i;
  while (i < len && isNameChar(text[i]!)) i++;
  const name = text.slice(start, i);
  const labels: Record<string, string> = {};
  skipSpaces();
  if (text[i] === '{') {
    i++;
    for (;;) {
      skipSpaces();
      if (text[i] === '}') {
        i++;
        break;
      }
      const ls = i;
      if (!isNameStart(text[i] ?? '')) throw new PrometheusParseError(`expected a label name in ${name}`, lineNo);
      while (i < len && isNameChar(text[i]!)) i++;
      const label = text.slice(ls, i);
      skipSpaces();
      if (text[i] !== '=') throw new PrometheusParseError(`expected '=' after label ${label}`, lineNo);
      i++;
      skipSpaces();
      if (text[i] !== '"') throw new PrometheusParseError(`expected '"' opening the value of label ${label}`, lineNo);
      i++;
      let value = '';
      for (;;) {
        if (i >= len) throw new PrometheusParseError(`unterminated value of label ${label}`, lineNo);
        const c = text[i++]!;
        if (c === '"') break;
        if (c === '\\') {
          const e = text[i++];
          value += e === 'n' ? '\n' : e === '\\' ? '\\' : e === '"' ? '"' : `\\${e ?? ''}`;
        } else value += c;
      }
      labels[label] = value;
      skipSpaces();
      if (text[i] === ',') i++;
      else if (text[i] !== '}') throw new PrometheusParseError(`expected ',' or '}' after label ${label}`, lineNo);
    }
  }
  skipSpaces();
  const rest = text.slice(i).trim().split(/[ \t]+/);
  if (rest.length < 1 || rest[0] === '') throw new PrometheusParseError(`missing value for ${name}`, lineNo);
  if (rest.length > 2) throw new PrometheusParseError(`unexpected text after the value of ${name}`, lineNo);
  const value = parseValue(rest[0]!, lineNo);
  const timestamp = rest.length === 2 ? parseValue(rest[1]!, lineNo) : null;
  return { name, labels, value, timestamp };
}

export function parsePrometheusText(body: string): PromText {
  const families = new Map<string, PromFamily>();
  const samples: PromSample[] = [];
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: 'untyped', help: '', samples: [] }));
    return f;
  };
  const lines = body.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s+(.*))?$/.exec(line);
      if (!m) continue; // plain comment
      const f = family(m[2]!);
      if (m[1] === 'TYPE') f.type = (m[3] ?? 'untyped').trim();
      else f.help = (m[3] ?? '').replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      continue;
    }
    const s = parseSampleLine(line, n + 1);
    samples.push(s);
    // A sample belongs to the declared family whose name it extends (foo_total → foo).
    let owner = families.get(s.name);
    if (!owner) {
      for (const suf of FAMILY_SUFFIXES) {
        if (s.name.endsWith(suf)) {
          owner = families.get(s.name.slice(0, -suf.length));
          if (owner) break;
        }
      }
    }
    (owner ?? family(s.name)).samples.push(s);
  }
  return { families, samples };
}

/** Sum of the samples of one series name whose labels match (all series when no filter). */
export function sumSeries(p: PromText, name: string, match: Record<string, string> = {}): number | null {
  let found = false;
  let sum = 0;
  for (const s of p.samples) {
    if (s.name !== name) continue;
    if (!Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue;
    found = true;
    sum += s.value;
  }
  return found ? sum : null;
}

/** Values of one series name grouped by one label. */
export function seriesByLabel(p: PromText, name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of p.samples) {
    if (s.name !== name) continue;
    const key = s.labels[label] ?? '';
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}
