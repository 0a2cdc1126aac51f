import type { z } from 'zod';
import { ValidationError } from './errors.js';

/** Dotted path of a zod issue, `(root)` for the document itself. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/** Human-readable one-liner for the first few issues of a zod error. */
export function describeZodError(error: z.ZodError, max = 3): string {
  return error.issues
    .slice(0, max)
    .map((i) => `${issuePath(i.path)}: ${i.message}`)
    .join('; ');
}

/**
 * Parse `data` with `schema`, throwing a ValidationError that names the first
 * offending field. `what` says what was being parsed ("job message", "POST /runs body").
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, data: unknown, what: string): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  const field = first ? issuePath(first.path) : '(root)';
  throw new ValidationError(`invalid ${what}: ${describeZodError(r.error)}`, field, { cause: r.error });
}
