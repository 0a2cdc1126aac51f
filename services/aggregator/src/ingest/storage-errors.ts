/**
 * SQLite failures that mean "cannot write now" (read-only file, full disk, I/O
 * error, locked): every event of the batch would fail the same way, so they are
 * all left unacked and retried later rather than isolated one by one.
 */
const UNWRITABLE = /^SQLITE_(READONLY|FULL|IOERR|CANTOPEN|BUSY|LOCKED|PERM|CORRUPT|NOTADB|PROTOCOL)/;

export function isStorageUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && UNWRITABLE.test(code);
}

export function describeStorageError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  return `${typeof e?.code === 'string' ? `${e.code}: ` : ''}${String(e?.message ?? err)}`;
}
