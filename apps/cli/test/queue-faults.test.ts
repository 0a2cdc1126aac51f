// Fault (issue 25, item 1): 20 runs submitted at once over two systems, 5 of them cancelled
// (some queued, some running), and one queued run's job deleted from the work queue behind the
// reconciler's back — the deletion that made a consumer skip a job on nats-server 2.9. Every run
// must end completed or cancelled: nothing left queued, nothing lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { consoleLogger } from '@kvbench/common';
import { JOBS_STREAM } from '@kvbench/bus';
import { tempDir, waitFor } from '@kvbench/testkit';
import { KvbenchClient } from '../src/api-client.js';
import { startLocalStack } from '../src/stack.js';
import { simRun } from './agent-faults.js';

const TINY = { contexts: [256], batches_per_context: 1, batch_sizes: [1], prompt_pool_size: 1, reuse_start_batch: 1, delay_ms: 0, seed: 11 };
const RUN = simRun({ outputTokens: 2, timeScale: 0.05 });

const byId0 = (finals: Status[], ids: string[], id: string) => {
  const s = finals[ids.indexOf(id)]!;
  return `${s.status}, requeues ${s.requeues}`;
};

interface Status {
  status: string;
  job_seq: number | null;
  requeues: number;
  note: string | null;
  error: string | null;
}

test('20 concurrent runs, 5 cancels and a deleted job: every run ends completed or cancelled', { timeout: 240_000 }, async (t) => {
  const dir = await tempDir('kvbench-queue-faults-');
  const stack = await startLocalStack({
    dir: dir.path,
    systems: ['pcie', 'c2c'],
    log: consoleLogger('warn'),
    env: { RECONCILE_INTERVAL_S: '1' },
    // The test plays an operator (or a bug) deleting a job from the work queue: no role may.
    busAuth: false,
  });
  const nc = await connect({ servers: stack.natsUrl });
  try {
    const client = new KvbenchClient(stack.apiUrl, stack.aggregatorUrl);
    const status = async (id: string) => (await client.runStatus(id)) as unknown as Status;
    const wl = await client.createWorkload({ params: TINY });
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.submitRun({ ...RUN, workload_id: wl.id, system_label: i % 2 ? 'c2c' : 'pcie' }).then((r) => r.run_id)),
    );

    // The last c2c run waits behind nine others: take its job off the queue, as the old cancel did.
    const victim = ids[19]!;
    const seq = await waitFor(async () => (await status(victim)).job_seq, { timeoutMs: 30_000, what: 'job_seq of the last run' });
    // JetStream's own API request (what jsm.streams.deleteMessage sends).
    const reply = await nc.request(`$JS.API.STREAM.MSG.DELETE.${JOBS_STREAM}`, JSON.stringify({ seq, no_erase: true }));
    const deleted = (reply.json() as { success?: boolean }).success === true;

    // Five cancels at once, spread over the queue: early ones are likely running, late ones queued.
    const cancelled = [ids[1]!, ids[4]!, ids[9]!, ids[14]!, ids[16]!];
    const answers = await Promise.all(cancelled.map((id) => client.cancelRun(id).catch((e: Error) => e)));
    for (const a of answers) {
      // A run that finished before its cancel arrived answers 409; anything else is a bug.
      if (a instanceof Error) assert.match(a.message, /409/);
    }

    const finals = await waitFor(
      async () => {
        const all = await Promise.all(ids.map(status));
        return all.every((s) => s.status === 'completed' || s.status === 'cancelled') ? all : null;
      },
      { timeoutMs: 180_000, intervalMs: 1000, what: 'every run completed or cancelled' },
    );
    const count = (st: string) => finals.filter((s) => s.status === st).length;
    t.diagnostic(`completed ${count('completed')}, cancelled ${count('cancelled')}; deleted job: ${deleted}, its run ${byId0(finals, ids, victim)}`);
    const byId = new Map(ids.map((id, i) => [id, finals[i]!]));
    for (const id of ids.filter((x) => !cancelled.includes(x))) assert.equal(byId.get(id)!.status, 'completed', `${id} was not cancelled, so it completes`);
    assert.ok(finals.filter((s) => s.status === 'cancelled').length <= 5);
    if (deleted) {
      const v = byId.get(victim)!;
      assert.equal(v.status, 'completed');
      assert.ok(v.requeues >= 1, 'the deleted job was published again by the reconciler');
      assert.match(v.note ?? '', /no longer in the queue/);
    }
    // Completed runs have their results at the aggregator, each exactly its workload's requests.
    for (const id of ids.filter((x) => byId.get(x)!.status === 'completed')) {
      const detail = await waitFor(
        async () => {
          const d = (await (await fetch(`${stack.aggregatorUrl}/runs/${id}`)).json()) as { status: string; received_samples: number };
          return d.status === 'completed' ? d : null;
        },
        { timeoutMs: 30_000, what: `aggregator has ${id} completed` },
      );
      assert.equal(detail.received_samples, wl.requests);
    }
  } finally {
    await nc.close();
    await stack.stop();
    await dir.cleanup();
  }
});
