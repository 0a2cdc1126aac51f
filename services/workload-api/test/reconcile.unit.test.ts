// When a queued run's job can still reach an agent (runs/reconcile.ts), from the stream and
// consumer state JetStream reports. max_ack_pending is 1, so "pending" is the one job in flight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { undeliverableReason } from '../src/runs/index.js';

const consumer = (delivered: number, ackFloor: number, pending: number) => ({
  delivered: { stream_seq: delivered, consumer_seq: delivered },
  ack_floor: { stream_seq: ackFloor, consumer_seq: ackFloor },
  num_ack_pending: pending,
});

test('a job not yet delivered, or the one in flight, is deliverable', () => {
  assert.equal(undeliverableReason({ job_seq: 37 }, true, consumer(36, 36, 0)), null);
  assert.equal(undeliverableReason({ job_seq: 37 }, true, consumer(37, 36, 1)), null, 'in flight (or nak’d, or waiting out its ack wait)');
  assert.equal(undeliverableReason({ job_seq: 5 }, true, null), null, 'no consumer yet: it delivers from the start');
  assert.equal(undeliverableReason({ job_seq: null }, true, consumer(1, 1, 0)), null);
});

test('a job deleted, or stored behind a consumer that passed it with nothing pending, is not', () => {
  assert.match(undeliverableReason({ job_seq: 36 }, false, consumer(35, 35, 0))!, /no longer in the queue/);
  // The fault run's state: seq 34 stored, the consumer delivered up to 36, nothing pending.
  assert.match(undeliverableReason({ job_seq: 34 }, true, consumer(36, 36, 0))!, /delivered past it \(up to seq 36/);
  // Another job in flight, ours below the ack floor: ours was skipped, not pending.
  assert.match(undeliverableReason({ job_seq: 34 }, true, consumer(37, 36, 1))!, /delivered past it/);
});
