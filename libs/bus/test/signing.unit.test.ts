// Signed run events (issue 25): the per-run key, the signature over subject and payload, and every
// way a check can say no. The end-to-end guard (a forged sample on a real bus changes no count) is
// apps/cli/test/bus-auth.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RUN_KEY_PATTERN, checkEventSignature, deriveRunKey, eventSubject, signEvent } from '@kvbench/bus';

const secret = 'a'.repeat(64);
const runA = { run_id: 'run-a', system_label: 'pcie' };
const runB = { run_id: 'run-b', system_label: 'pcie' };
const bytes = (s: string) => new TextEncoder().encode(s);

test('a run key is per run and per label, and only the secret makes it', () => {
  const key = deriveRunKey(secret, 'run-a', 'pcie');
  assert.match(key, RUN_KEY_PATTERN);
  assert.equal(deriveRunKey(secret, 'run-a', 'pcie'), key, 'deterministic: the aggregator derives the same key');
  assert.notEqual(deriveRunKey(secret, 'run-b', 'pcie'), key);
  assert.notEqual(deriveRunKey(secret, 'run-a', 'c2c'), key);
  assert.notEqual(deriveRunKey('b'.repeat(64), 'run-a', 'pcie'), key);
});

test('the signature of its own run verifies; unsigned, malformed, tampered, moved or foreign ones do not', () => {
  const payload = JSON.stringify({ ...runA, type: 'sample' });
  const subject = eventSubject('run-a', 'sample');
  const header = signEvent(deriveRunKey(secret, 'run-a', 'pcie'), subject, payload);
  assert.deepEqual(checkEventSignature(secret, runA, subject, bytes(payload), header), { ok: true });

  const no = (r: ReturnType<typeof checkEventSignature>) => (r.ok ? 'ok' : r.kind);
  assert.equal(no(checkEventSignature(secret, runA, subject, bytes(payload), undefined)), 'unsigned');
  assert.equal(no(checkEventSignature(secret, runA, subject, bytes(payload), 'v1=zz')), 'bad_signature');
  assert.equal(no(checkEventSignature(secret, runA, subject, bytes(payload.replace('sample', 'samplE')), header)), 'bad_signature', 'payload changed');
  // Signed for run A, published as run B (body and subject rewritten): B's key does not match.
  const asB = JSON.stringify({ ...runB, type: 'sample' });
  assert.equal(no(checkEventSignature(secret, runB, eventSubject('run-b', 'sample'), bytes(asB), header)), 'bad_signature', 'moved to run B');
  // Same bytes on another subject: the subject is signed too.
  assert.equal(no(checkEventSignature(secret, runA, eventSubject('run-a', 'completed'), bytes(payload), header)), 'bad_signature', 'other subject');
  // A key for run B (an agent holding B's job) cannot sign for A.
  const byB = signEvent(deriveRunKey(secret, 'run-b', 'pcie'), subject, payload);
  assert.equal(no(checkEventSignature(secret, runA, subject, bytes(payload), byB)), 'bad_signature', "B's key on A's event");
});
