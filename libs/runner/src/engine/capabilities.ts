/**
 * What an engine really offers, each entry with how kvbench learned it: probed on the running server,
 * observed in its statistics during the run, or taken from the build's version (only where probing is
 * impossible or would itself break the engine). Recorded as `run_meta.engine.capabilities`.
 */
import { z } from 'zod';

export const Capability = z.object({
  name: z.string(),
  available: z.boolean(),
  /** How it was learned: "probed: …", "observed: …" or "build version …". */
  how: z.string(),
  /** Why it is not available, or what follows from it. */
  reason: z.string().optional(),
});
export type Capability = z.infer<typeof Capability>;

export const cap = (name: string, available: boolean, how: string, reason?: string): Capability => ({ name, available, how, ...(reason ? { reason } : {}) });

/** Later entries (observed during the run) replace earlier ones (probed or from the version) of the same name. */
export function mergeCapabilities(...lists: readonly (readonly Capability[])[]): Capability[] {
  const byName = new Map<string, Capability>();
  for (const list of lists) for (const c of list) byName.set(c.name, Capability.parse(c));
  return [...byName.values()];
}
