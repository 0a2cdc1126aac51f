// The one envelope (runEvent), the one message-id scheme (eventMessageId) and the one status-entry
// reader (runStatusFromEntry), without a bus.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunEvent, StorageError, runEvent } from '@kvbench/common';
import { eventMessageId, runStatusFromEntry } from '@kvbench/bus';

const source = { run_id: 'run-abcdefgh-0000000001', attempt: 2, system_label: 'pcie' };

test('runEvent builds the envelope the schema requires, for every kind of publisher', () => {
  const at = new Date(Date.UTC(2026, 11, 6, 12));
  const cancelled = runEvent('cancelled', source, { was_running: true, reason: 'cancelled by request' }, at);
  assert.deepEqual(RunEvent.parse(cancelled), { schema: 'kvbench.event', version: 1, ...source, at: at.toISOString(), type: 'cancelled', was_running: true, reason: 'cancelled by request' });
  const failed = runEvent('failed', source, { error: 'engine exited', log_tail: ['x'], final: true });
  assert.equal(RunEvent.parse(failed).type, 'failed');
});

test('eventMessageId: one id per event whoever publishes it; samples by request, snapshots numbered', () => {
  const cancelled = runEvent('cancelled', source, { was_running: false, reason: 'r' });
  assert.equal(eventMessageId(cancelled), 'run-abcdefgh-0000000001.2.cancelled');
  const stats = (final: boolean) => runEvent('engine_stats', source, { final, log_metrics: { null_reasons: {} } as never });
  assert.equal(eventMessageId(stats(true)), 'run-abcdefgh-0000000001.2.engine_stats.final');
  assert.equal(eventMessageId(stats(false), 7), 'run-abcdefgh-0000000001.2.engine_stats.7');
});

test('runStatusFromEntry: absent, deleted and foreign entries are null; strict makes a foreign one a StorageError', () => {
  const entry = (value: string, operation = 'PUT') =>
    ({ key: 'run-x', operation, length: value.length, revision: 3, json: () => JSON.parse(value) }) as never;
  const status = { run_id: 'run-abcdefgh-0000000001', system_label: 'pcie', workload_id: 'wl-0123456789abcdef', status: 'queued', attempt: 0, submitted_at: '2026-12-06T12:00:00.000Z', updated_at: '2026-12-06T12:00:00.000Z' };
  const parsed = runStatusFromEntry(entry(JSON.stringify(status)));
  assert.equal(parsed?.status, 'queued');
  assert.equal(runStatusFromEntry(null), null);
  assert.equal(runStatusFromEntry(entry('', 'DEL')), null);
  assert.equal(runStatusFromEntry(entry('{"not":"a status"}')), null);
  assert.throws(() => runStatusFromEntry(entry('{"not":"a status"}'), { strict: true }), StorageError);
  assert.throws(() => runStatusFromEntry(entry('{oops'), { strict: true }), StorageError);
});
