import { randomBytes } from 'node:crypto';

/** Sortable, subject-safe run id: r-20261128T010203-1a2b3c. */
export function newRunId(now = new Date()): string {
  const ts = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
  return `r-${ts}-${randomBytes(3).toString('hex')}`;
}
