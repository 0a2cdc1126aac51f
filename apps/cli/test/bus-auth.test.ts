// Fault (issue 25, item 2) on the stack `kvbench up` starts: the bus has one user per role
// (deploy/nats/users.conf, passwords made per start; one agent user per system). Without a
// password nothing connects; an agent cannot submit jobs, nor read another system's jobs; a forged sample an agent's credentials can publish changes no count:
// unsigned, wrongly signed, or signed for another run, each with a valid schema, a request id of
// the workload and a fresh valid msgID (so only the signature check can refuse it); and even one
// signed with the run's own key is held to the workload's requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { consoleLogger } from '@kvbench/common';
import { SIGNATURE_HEADER, deriveRunKey, eventSubject, jobSubject, signEvent } from '@kvbench/bus';
import { tempDir, waitFor } from '@kvbench/testkit';
import { KvbenchClient } from '../src/api-client.js';
import { startLocalStack } from '../src/stack.js';

const TINY = { contexts: [256], batches_per_context: 2, batch_sizes: [1], prompt_pool_size: 1, reuse_start_batch: 1, delay_ms: 0, seed: 21 };

interface Health {
  ingest: { rejected_samples: number; event_signing: string; rejected_unsigned: number; rejected_bad_signature: number };
}

/** A JetStream publish made by hand (a request with Nats-Msg-Id; the stream answers with its ack), optionally signed. */
async function jsPublish(nc: NatsConnection, subject: string, payload: string, msgId: string, signature?: string): Promise<void> {
  const h = headers();
  h.set('Nats-Msg-Id', msgId);
  if (signature) h.set(SIGNATURE_HEADER, signature);
  const ack = (await nc.request(subject, payload, { headers: h, timeout: 10_000 })).json<{ seq?: number; duplicate?: boolean; error?: unknown }>();
  assert.ok(ack.seq && !ack.duplicate && !ack.error, `stored as a new message: ${JSON.stringify(ack)}`);
}

test('kvbench up: per-role bus users; a forged sample on the bus changes no count', { timeout: 240_000 }, async () => {
  const dir = await tempDir('kvbench-bus-auth-');
  const stack = await startLocalStack({ dir: dir.path, systems: ['pcie'], log: consoleLogger('warn') });
  try {
    assert.ok(stack.bus, 'credentials were made');
    await assert.rejects(connect({ servers: stack.natsUrl, reconnect: false }), /authorization/i, 'no password, no bus');

    const client = new KvbenchClient(stack.apiUrl, stack.aggregatorUrl);
    const wl = await client.createWorkload({ params: TINY });
    const submit = () => client.submitRun({
      workload_id: wl.id, system_label: 'pcie', model: 'meta-llama/Llama-3.1-8B-Instruct', overrides: { gpu_kv_max_tokens: 2048, host_cache_gb: 1 },
      max_batch_size: 4, max_seq_len: 4096, output_tokens: 2, engine: { kind: 'sim', options: { time_scale: 0.05 } },
    });
    const runA = (await submit()).run_id;
    const runB = (await submit()).run_id;
    type Detail = { status: string; received_samples: number; attempts: { attempt: number; received_samples: number }[] };
    const detail = async (id: string) => (await (await fetch(`${stack.aggregatorUrl}/runs/${id}`)).json()) as Detail;
    /** Every count the aggregator keeps of a run: samples received, per attempt. */
    const counts = async (id: string) => (await detail(id)).attempts.map((a) => ({ attempt: a.attempt, received: a.received_samples }));
    for (const id of [runA, runB]) {
      // Both complete: the agent's own events, signed with the key its job carried, are stored.
      await waitFor(async () => (await detail(id).catch(() => null))?.status === 'completed', { timeoutMs: 120_000, what: `run ${id} completed` });
    }
    type Samples = { request_id: string; ttft_s: number }[];
    const results = async (id: string) => (await (await fetch(`${stack.aggregatorUrl}/results?run_id=${id}`)).json()) as { runs: { pcie: { samples: Samples }[] } };
    const before = { a: (await results(runA)).runs.pcie[0]!.samples, b: (await results(runB)).runs.pcie[0]!.samples };
    const countsBefore = { a: await counts(runA), b: await counts(runB) };
    assert.deepEqual(countsBefore.a, [{ attempt: 1, received: wl.requests }]);
    const health = async () => (await (await fetch(`${stack.aggregatorUrl}/health`)).json()) as Health;
    assert.equal((await health()).ingest.event_signing, 'on');
    assert.deepEqual(
      { unsigned: (await health()).ingest.rejected_unsigned, bad: (await health()).ingest.rejected_bad_signature },
      { unsigned: 0, bad: 0 },
      "every event the services and the agent published was signed with its run's key",
    );

    const pcie = stack.bus!.agents.get('pcie')!;
    const nc = await connect({ servers: stack.natsUrl, user: pcie.user, pass: pcie.password });
    try {
      // What the server refuses this agent (permissions violations), in order.
      const refusals: string[] = [];
      void (async () => {
        for await (const s of nc.status()) if (s.type === 'error') refusals.push(String((s as { error?: unknown }).error ?? s.type));
      })();
      const refused = async (subject: string) => {
        const n = refusals.length;
        nc.publish(subject, '{}');
        await waitFor(() => refusals.length > n, { timeoutMs: 10_000, what: `the server refusing ${subject}` });
        assert.match(refusals[n]!, /permissions violation/i);
        assert.ok(refusals[n]!.includes(subject), `${refusals[n]} names ${subject}`);
      };
      // An agent may not submit jobs.
      await refused(jobSubject('pcie'));
      // The pcie agent's user cannot read another system's jobs (nor their run keys): no binding,
      // pulling or acking on agent-c2c, and no consumer of its own over c2c's jobs.
      await refused('$JS.API.CONSUMER.INFO.KVBENCH_JOBS.agent-c2c');
      await refused('$JS.API.CONSUMER.MSG.NEXT.KVBENCH_JOBS.agent-c2c');
      await refused('$JS.ACK.KVBENCH_JOBS.agent-c2c.1.1.1.1.0');
      await refused('$JS.API.CONSUMER.CREATE.KVBENCH_JOBS.agent-pcie.kvbench.jobs.c2c');
      await refused('$JS.API.CONSUMER.CREATE.KVBENCH_JOBS.sneaky.kvbench.jobs.c2c');
      await refused('$JS.API.CONSUMER.DURABLE.CREATE.KVBENCH_JOBS.agent-c2c');

      // Schema-valid samples for a request the workload has, as a new attempt (9), each under a fresh valid msgID.
      const requestId = before.a[0]!.request_id;
      const forged = (runId: string, request_id = requestId) => JSON.stringify({
        schema: 'kvbench.event', version: 1, run_id: runId, attempt: 9, system_label: 'pcie', at: new Date().toISOString(), type: 'sample',
        sample: {
          request_id, batch_index: 0, index_in_batch: 0, prompt_id: 'p0', context_tokens: 256, phase: 'cold', scheduled_at_s: 0,
          ttft_s: 999, latency_s: 1000, itl_s: [], prompt_tokens_client: 256, prompt_tokens_server: 256, completion_tokens_client: 2,
          completion_tokens_server: 2, cached_tokens: 0, ok: true, error: null, server: null,
        },
      });
      const keyA = deriveRunKey(stack.eventSigningSecret, runA, 'pcie');
      const subjectA = eventSubject(runA, 'sample');
      const subjectB = eventSubject(runB, 'sample');
      // 1. unsigned
      await jsPublish(nc, subjectA, forged(runA), `${runA}.9.sample.${requestId}`);
      // 2. signed with a key of the forger's own making
      await jsPublish(nc, subjectA, forged(runA), `${runA}.9.sample.${requestId}.2`, signEvent(randomBytes(32).toString('hex'), subjectA, forged(runA)));
      // 3. signed for run A (its real key), published as run B: body and subject say B
      await jsPublish(nc, subjectB, forged(runB), `${runB}.9.sample.${requestId}`, signEvent(keyA, subjectA, forged(runB)));
      // 4. signed with A's key and A's subject, but sent on B's subject: the signature covers the subject
      await jsPublish(nc, subjectB, forged(runB), `${runB}.9.sample.${requestId}.4`, signEvent(keyA, subjectB.replace(runB, runA), forged(runB)));
      // 5. correctly signed for A (as the agent holding A could) but for a request the workload lacks: the plan check
      const notInPlan = forged(runA, 'forged-request');
      await jsPublish(nc, subjectA, notInPlan, `${runA}.9.sample.forged-request`, signEvent(keyA, subjectA, notInPlan));
    } finally {
      await nc.close();
    }
    // The plan-check one went last: once it is counted, ingest has been through all five (in order).
    await waitFor(async () => ((await health()).ingest.rejected_samples >= 1 ? true : null), { timeoutMs: 30_000, what: 'the last forged sample rejected' });
    for (const [id, was, wasCounted] of [[runA, before.a, countsBefore.a], [runB, before.b, countsBefore.b]] as const) {
      // A forged sample of a new attempt would show as that attempt's received sample.
      assert.deepEqual(await counts(id), wasCounted, `no count of ${id} changed`);
      const after = (await results(id)).runs.pcie[0]!.samples;
      assert.equal(after.length, was.length);
      assert.ok(after.every((s) => s.ttft_s !== 999));
    }
    const h = await health();
    assert.deepEqual(
      { unsigned: h.ingest.rejected_unsigned, bad: h.ingest.rejected_bad_signature, not_in_plan: h.ingest.rejected_samples },
      { unsigned: 1, bad: 3, not_in_plan: 1 },
    );
  } finally {
    await stack.stop();
    await dir.cleanup();
  }
});
