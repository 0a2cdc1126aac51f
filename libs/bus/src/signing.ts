import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed run events (issue 25): an agent may publish only for the runs it holds.
 *
 * nats-server 2.9's static users cannot be granted a subject per run (that takes per-run user
 * JWTs or auth callout, 2.10+), so the bus cannot say "this agent, this run". Instead the
 * workload-api and the aggregator share one secret (EVENT_SIGNING_SECRET); each run has its own
 * key, HMAC(secret, run id | system label), which travels only inside the run's job message (read
 * only through the label's job consumer, never stored with the accepted event or served over REST).
 * Whoever publishes a run event signs the subject and the exact payload bytes with that key in the
 * `Kvbench-Signature` header; the aggregator derives the key again from the event's own run id and
 * label and stores only what verifies. The attempt is inside the signed payload, but the key is per
 * run, not per attempt: attempts are numbered by the agent that starts one (one past the last
 * started), after the job was published, so the workload-api cannot mint a key per attempt.
 */

/** NATS header carrying an event's signature: `v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'Kvbench-Signature';

/** A run key as it travels in the job: 64 hex digits (HMAC-SHA256). */
export const RUN_KEY_PATTERN = /^[0-9a-f]{64}$/;

/** The run's key, from the shared secret. Only workload-api (to hand it out) and the aggregator (to verify) can compute it. */
export function deriveRunKey(secret: string, runId: string, systemLabel: string): string {
  return createHmac('sha256', secret).update(`kvbench.run-key.v1|${runId}|${systemLabel}`).digest('hex');
}

/** The header value for one event: the subject is signed too, so a signed event cannot be moved to another run's subject. */
export function signEvent(runKey: string, subject: string, payload: string | Uint8Array): string {
  return `v1=${mac(runKey, subject, payload).toString('hex')}`;
}

export type SignatureCheck = { ok: true } | { ok: false; kind: 'unsigned' | 'bad_signature'; reason: string };

/** Whether `header` is the signature of (subject, payload) under the run's key; says why not. Never throws. */
export function checkEventSignature(
  secret: string,
  event: { run_id: string; system_label: string },
  subject: string,
  payload: Uint8Array,
  header: string | undefined,
): SignatureCheck {
  if (!header) return { ok: false, kind: 'unsigned', reason: `no ${SIGNATURE_HEADER} header` };
  const m = /^v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return { ok: false, kind: 'bad_signature', reason: `${SIGNATURE_HEADER} is not v1=<64 hex digits>` };
  const expected = mac(deriveRunKey(secret, event.run_id, event.system_label), subject, payload);
  if (!timingSafeEqual(expected, Buffer.from(m[1]!, 'hex'))) {
    return { ok: false, kind: 'bad_signature', reason: `signature does not match run ${event.run_id} (${event.system_label}) on ${subject}` };
  }
  return { ok: true };
}

function mac(runKey: string, subject: string, payload: string | Uint8Array): Buffer {
  return createHmac('sha256', Buffer.from(runKey, 'hex')).update(subject).update('\n').update(payload).digest();
}
