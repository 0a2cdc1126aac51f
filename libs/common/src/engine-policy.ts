/**
 * What a job may point an agent at (issue 25): a REST body must never choose a file or a host.
 * Engine URLs come from an operator's allow-list (workload-api ENGINE_URL_ALLOWLIST, the agent's
 * own ENGINE_URLS), http(s) only; simulator profiles are names from the shipped or configured set.
 */

/** A base URL of the allow-list: `http(s)://host[:port][/path]`, compared without a trailing slash. */
export function normalizeEngineUrl(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  if (u.username || u.password || u.search || u.hash) return null;
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** Why `url` may not be used, or null when an allow-list entry is the same URL (or a path prefix of it). */
export function engineUrlRefusal(url: string, allowList: readonly string[]): string | null {
  const n = normalizeEngineUrl(url);
  if (n === null) return 'only http(s) URLs without credentials, query or fragment are accepted';
  const allowed = allowList.map(normalizeEngineUrl).filter((x): x is string => x !== null);
  if (allowed.length === 0) return 'no engine URL is allowed here (the operator lists them: ENGINE_URL_ALLOWLIST on workload-api, ENGINE_URLS on the agent)';
  if (allowed.some((a) => n === a || n.startsWith(`${a}/`))) return null;
  return `not in the operator's allow-list (${allowed.join(', ')})`;
}

/** Profile names are plain names: no path, no extension (a path would be opened on the agent). */
export const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Why `profile` may not be used, or null when it is one of `known`. */
export function profileRefusal(profile: unknown, known: readonly string[]): string | null {
  if (typeof profile !== 'string' || !PROFILE_NAME.test(profile)) return 'a simulator profile is given by name (letters, digits, - and _), never a path';
  if (!known.includes(profile)) return `unknown simulator profile '${profile}'`;
  return null;
}
