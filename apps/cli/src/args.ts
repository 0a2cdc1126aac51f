import { ValidationError } from '@kvbench/common';

/**
 * argparse-compatible flag parsing for the original commands: `--name value`,
 * `--name=value`, `--name v1 v2 v3` (nargs="+"), bare `--flag` for booleans.
 * Hyphens and underscores in names are equivalent (`--delay-ms` = `--delay_ms`).
 */
export type FlagType = 'string' | 'int' | 'float' | 'bool' | 'int[]' | 'string[]';
export interface FlagSpec {
  type: FlagType;
  help: string;
  default?: unknown;
  required?: boolean;
}
export type FlagSpecs = Record<string, FlagSpec>;

const norm = (name: string) => name.replace(/-/g, '_');

export interface ParsedArgs {
  flags: Record<string, unknown>;
  positionals: string[];
}

export function parseFlags(argv: readonly string[], specs: FlagSpecs): ParsedArgs {
  const byName = new Map(Object.entries(specs).map(([k, v]) => [norm(k), { key: k, spec: v }]));
  const flags: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const rawName = norm(arg.slice(2, eq === -1 ? undefined : eq));
    const entry = byName.get(rawName);
    if (!entry) throw new ValidationError(`unknown flag --${rawName}`, rawName);
    const { key, spec } = entry;
    const values: string[] = [];
    if (eq !== -1) values.push(arg.slice(eq + 1));
    else if (spec.type === 'bool') {
      // `--flag` alone means true; `--flag false` / `--flag 0` are accepted like the original's str2bool.
      const next = argv[i + 1];
      if (next !== undefined && /^(true|false|1|0|yes|no|on|off)$/i.test(next)) values.push(argv[++i]!);
      else values.push('true');
    } else if (spec.type.endsWith('[]')) {
      while (i + 1 < argv.length && !isFlag(argv[i + 1]!)) values.push(argv[++i]!);
    } else {
      if (i + 1 >= argv.length) throw new ValidationError(`flag --${rawName} needs a value`, rawName);
      values.push(argv[++i]!);
    }
    flags[key] = convert(key, spec.type, values);
  }
  for (const [key, spec] of Object.entries(specs)) {
    if (flags[key] === undefined) {
      if (spec.required) throw new ValidationError(`missing required flag --${key}`, key);
      if (spec.default !== undefined) flags[key] = spec.default;
    }
  }
  return { flags, positionals };
}

// A negative number is a value, not a flag.
const isFlag = (s: string) => s.startsWith('--');

function convert(key: string, type: FlagType, values: string[]): unknown {
  const num = (v: string, int: boolean) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (int && !Number.isInteger(n))) {
      throw new ValidationError(`--${key}: '${v}' is not ${int ? 'an integer' : 'a number'}`, key);
    }
    return n;
  };
  switch (type) {
    case 'string':
      return values[0];
    case 'int':
      return num(values[0]!, true);
    case 'float':
      return num(values[0]!, false);
    case 'bool': {
      const v = values[0]!.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      throw new ValidationError(`--${key}: '${values[0]}' is not a boolean`, key);
    }
    case 'int[]':
      if (values.length === 0) throw new ValidationError(`--${key} needs at least one value`, key);
      return values.map((v) => num(v, true));
    case 'string[]':
      if (values.length === 0) throw new ValidationError(`--${key} needs at least one value`, key);
      return values;
  }
}

export function usage(command: string, summary: string, specs: FlagSpecs): string {
  const lines = [`usage: kvbench ${command} [flags]`, '', summary, '', 'flags:'];
  for (const [k, s] of Object.entries(specs)) {
    const def = s.default !== undefined ? ` (default: ${JSON.stringify(s.default)})` : s.required ? ' (required)' : '';
    lines.push(`  --${k.padEnd(26)} ${s.help}${def}`);
  }
  return lines.join('\n');
}
