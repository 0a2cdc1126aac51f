import { RunEvent, describeZodError } from '@kvbench/common';
import { eventSubject } from '@kvbench/bus';

// One decoder for every message: creating one per message showed in profiles.
const utf8 = new TextDecoder('utf-8', { fatal: true });

export type Decoded = { ok: true; event: RunEvent } | { ok: false; reason: string };

/** Bytes of a bus message → a validated RunEvent, or why not. Never throws. */
export function decodeEvent(subject: string, data: Uint8Array): Decoded {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(data));
  } catch (err) {
    return { ok: false, reason: `not JSON: ${(err as Error).message}` };
  }
  const r = RunEvent.safeParse(json);
  if (!r.success) return { ok: false, reason: `not a run event: ${describeZodError(r.error)}` };
  // The subject routes the event; a body for another run or type is someone's bug, not data.
  const expected = eventSubject(r.data.run_id, r.data.type);
  if (subject !== expected) return { ok: false, reason: `subject ${subject} does not match its body (${expected})` };
  return { ok: true, event: r.data };
}
