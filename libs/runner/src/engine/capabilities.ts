/**
 * What an engine really offers, each entry with how kvbench learned it: probed on the running server,
 * observed in its statistics during the run, or taken from the build's version (only where probing is
 * impossible or would itself break the engine). Recorded as `run_meta.engine.capabilities`.
 */
/** One entry of run_meta.engine.capabilities (kvbench's own output, not an input: no schema to check it against). */
export interface Capability {
  name: string;
  available: boolean;
  /** How it was learned: "probed: …", "observed: …" or "build version …". */
  how: string;
  /** Why it is not available, or what follows from it. */
  reason?: string;
}

export const cap = (name: string, available: boolean, how: string, reason?: string): Capability => ({ name, available, how, ...(reason ? { reason } : {}) });

/** Later entries (observed during the run) replace earlier ones (probed or from the version) of the same name. */
export function mergeCapabilities(...lists: readonly (readonly Capability[])[]): Capability[] {
  const byName = new Map<string, Capability>();
  for (const list of lists) for (const c of list) byName.set(c.name, c);
  return [...byName.values()];
}
