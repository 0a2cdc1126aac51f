// Fault (issue 25, item 2) on the stack `kvbench up` starts: the bus has one user per role
// (deploy/nats/users.conf, passwords made per start). Without a password nothing connects; an
// agent cannot submit jobs; a forged sample an agent's credentials can publish changes no count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { consoleLogger } from '@kvbench/common';
import { eventSubject, jobSubject } from '@kvbench/bus';
import { tempDir, waitFor } from '@kvbench/testkit';
import { KvbenchClient } from '../src/api-client.js';
import { startLocalStack } from '../src/stack.js';

const TINY = { contexts: [256], batches_per_context: 2, batch_sizes: [1], prompt_pool_size: 1, reuse_start_batch: 1, delay_ms: 0, seed: 21 };

test('kvbench up: per-role bus users; a forged sample on the bus changes no count', { timeout: 180_000 }, async () => {
  const dir = await tempDir('kvbench-bus-auth-');
  const stack = await startLocalStack({ dir: dir.path, systems: ['pcie'], log: consoleLogger('warn') });
  try {
    assert.ok(stack.bus, 'credentials were made');
    await assert.rejects(connect({ servers: stack.natsUrl, reconnect: false }), /authorization/i, 'no password, no bus');

    const client = new KvbenchClient(stack.apiUrl, stack.aggregatorUrl);
    const wl = await client.createWorkload({ params: TINY });
    const { run_id } = await client.submitRun({
      workload_id: wl.id, system_label: 'pcie', model: 'meta-llama/Llama-3.1-8B-Instruct', overrides: { gpu_kv_max_tokens: 2048, host_cache_gb: 1 },
      max_batch_size: 4, max_seq_len: 4096, output_tokens: 2, engine: { kind: 'sim', options: { time_scale: 0.05 } },
    });
    const detail = async () => (await (await fetch(`${stack.aggregatorUrl}/runs/${run_id}`)).json()) as { status: string; received_samples: number };
    await waitFor(async () => (await detail().catch(() => null))?.status === 'completed', { timeoutMs: 120_000, what: 'run completed' });
    const results = async () => (await (await fetch(`${stack.aggregatorUrl}/results?run_id=${run_id}`)).json()) as { runs: { pcie: { samples: { ttft_s: number }[] }[] } };
    const before = (await results()).runs.pcie[0]!.samples;

    const nc = await connect({ servers: stack.natsUrl, user: stack.bus!.agent.user, pass: stack.bus!.agent.password });
    try {
      // An agent may not submit jobs: the server refuses the publish (permissions violation).
      const refused = new Promise<string>((resolve) => {
        void (async () => {
          for await (const s of nc.status()) if (s.type === 'error') resolve(String((s as { error?: unknown }).error ?? s.type));
        })();
      });
      nc.publish(jobSubject('pcie'), '{}');
      assert.match(await refused, /permissions violation/i);
      // A schema-valid sample for a request the workload does not have, with a fresh msgID.
      const forged = {
        schema: 'kvbench.event', version: 1, run_id, attempt: 1, system_label: 'pcie', at: new Date().toISOString(), type: 'sample',
        sample: {
          request_id: 'forged-request', batch_index: 0, index_in_batch: 0, prompt_id: 'p0', context_tokens: 256, phase: 'cold', scheduled_at_s: 0,
          ttft_s: 999, latency_s: 1000, itl_s: [], prompt_tokens_client: 256, prompt_tokens_server: 256, completion_tokens_client: 2,
          completion_tokens_server: 2, cached_tokens: 0, ok: true, error: null, server: null,
        },
      };
      nc.publish(eventSubject(run_id, 'sample'), JSON.stringify(forged), { headers: undefined });
      await nc.flush();
    } finally {
      await nc.close();
    }
    const health = await waitFor(
      async () => {
        const h = (await (await fetch(`${stack.aggregatorUrl}/health`)).json()) as { ingest: { rejected_samples: number } };
        return h.ingest.rejected_samples >= 1 ? h : null;
      },
      { timeoutMs: 30_000, what: 'the forged sample rejected' },
    );
    assert.equal(health.ingest.rejected_samples, 1);
    assert.equal((await detail()).received_samples, wl.requests, 'no count changed');
    const after = (await results()).runs.pcie[0]!.samples;
    assert.equal(after.length, before.length);
    assert.ok(after.every((s) => s.ttft_s !== 999));
  } finally {
    await stack.stop();
    await dir.cleanup();
  }
});
