import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNatsServer, type NatsServerHandle } from '@kvbench/testkit';
import { DEFAULT_OUTPUT_TOKENS, Job, RunAcceptedEvent, RunStatus } from '@kvbench/common';
import { EVENTS_STREAM, JOBS_STREAM, RUNS_BUCKET, agentConsumerName, eventSubject } from '@kvbench/bus';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { natsClient, SMALL_PARAMS, startApi, type Api } from './helpers.js';

describe('runs', () => {
  let nats: NatsServerHandle;
  let api: Api;
  let nc: NatsConnection;
  let workloadId: string;
  before(async () => {
    nats = await startNatsServer();
    api = await startApi(nats, { AGGREGATOR_URL: 'http://aggregator.test:8081/' });
    nc = await natsClient(nats);
    const res = await api.app.inject({ method: 'POST', url: '/workloads', payload: { params: SMALL_PARAMS } });
    workloadId = res.json().id;
  });
  after(async () => {
    await nc?.close();
    await api?.close();
    await nats?.close();
  });

  /** Take the next job for a system the way an agent does: through its durable consumer. */
  async function nextJob(label: string): Promise<Job> {
    const consumer = await jetstream(nc).consumers.get(JOBS_STREAM, agentConsumerName(label));
    const msg = await consumer.next({ expires: 5000 });
    assert.ok(msg, `a job on kvbench.jobs.${label}`);
    assert.equal(msg.subject, `kvbench.jobs.${label}`);
    msg.ack();
    return Job.parse(msg.json());
  }

  it('accepts a run: 202, job on its system subject, queued status, accepted event', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/runs',
      payload: { workload_id: workloadId, system_label: 'pcie', model: 'llama-3.1-8b', notes: 'first' },
    });
    assert.equal(res.statusCode, 202, res.body);
    const body = res.json();
    assert.equal(body.status, 'queued');
    assert.equal(body.status_url, `/runs/${body.run_id}`);
    assert.equal(body.events_url, `http://aggregator.test:8081/runs/${body.run_id}/events`);

    const job = await nextJob('pcie');
    assert.equal(job.run_id, body.run_id);
    assert.equal(job.workload_id, workloadId);
    assert.equal(job.config_module, 'config_pcie');
    assert.deepEqual(job.engine, { kind: 'sim', options: {} });
    assert.equal(job.max_batch_size, 32);
    assert.equal(job.max_seq_len, 131072);
    assert.equal(job.output_tokens, DEFAULT_OUTPUT_TOKENS);
    assert.equal(job.temperature, 0);
    assert.equal(job.top_p, 1);
    assert.equal(job.notes, 'first');

    const kv = await new Kvm(nc).open(RUNS_BUCKET);
    const entry = await kv.get(body.run_id);
    assert.ok(entry);
    const status = RunStatus.parse(entry.json());
    assert.equal(status.status, 'queued');
    assert.equal(status.system_label, 'pcie');

    const jsm = await jetstreamManager(nc);
    const stored = await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: eventSubject(body.run_id, 'accepted') });
    assert.ok(stored);
    const event = RunAcceptedEvent.parse(stored.json());
    assert.equal(event.attempt, 1);
    assert.deepEqual(event.job, job);

    const got = await api.app.inject({ method: 'GET', url: `/runs/${body.run_id}` });
    assert.equal(got.statusCode, 200);
    assert.deepEqual(got.json(), status);
  });

  it('passes config, overrides and sampling settings through to the job', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/runs',
      payload: {
        workload_id: workloadId,
        system_label: 'gh200-lab',
        model: 'm',
        config_module: 'config_c2c',
        overrides: { host_cache_gb: 16, enable_reuse: false },
        engine: { kind: 'openai', url: 'http://10.0.0.5:8000' },
        max_batch_size: 8,
        max_seq_len: 4096,
        output_tokens: 3,
        temperature: 0.5,
        top_p: 0.9,
      },
    });
    assert.equal(res.statusCode, 202, res.body);
    const job = await nextJob('gh200-lab');
    assert.equal(job.run_id, res.json().run_id);
    assert.equal(job.config_module, 'config_c2c');
    assert.deepEqual(job.overrides, { host_cache_gb: 16, enable_reuse: false });
    assert.deepEqual(job.engine, { kind: 'openai', url: 'http://10.0.0.5:8000', options: {} });
    assert.deepEqual([job.max_batch_size, job.max_seq_len, job.output_tokens, job.temperature, job.top_p], [8, 4096, 3, 0.5, 0.9]);
  });

  it('queues a job for a system with no agent yet, kept by its durable consumer', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/runs', payload: { workload_id: workloadId, system_label: 'c2c', model: 'm' } });
    assert.equal(res.statusCode, 202);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info(JOBS_STREAM, agentConsumerName('c2c'));
    assert.equal(info.num_pending, 1);
    const job = await nextJob('c2c');
    assert.equal(job.config_module, 'config_c2c');
  });

  it('a second API instance (or a restart) reuses the existing durable consumer', async () => {
    const second = await startApi(nats);
    try {
      const res = await second.app.inject({ method: 'POST', url: '/runs', payload: { workload_id: workloadId, system_label: 'pcie', model: 'm2' } });
      assert.equal(res.statusCode, 202, res.body);
      const job = await nextJob('pcie');
      assert.equal(job.run_id, res.json().run_id);
      assert.equal(job.model, 'm2');
    } finally {
      await second.close();
    }
  });

  it('lists runs, filtered by system label and status', async () => {
    const all = await api.app.inject({ method: 'GET', url: '/runs' });
    assert.equal(all.statusCode, 200);
    const runs = all.json().runs as RunStatus[];
    assert.ok(runs.length >= 3);
    const sorted = [...runs].sort((a, b) => b.submitted_at.localeCompare(a.submitted_at) || b.run_id.localeCompare(a.run_id));
    assert.deepEqual(runs, sorted);
    const pcie = await api.app.inject({ method: 'GET', url: '/runs?system_label=pcie&status=queued' });
    const pcieRuns = pcie.json().runs as RunStatus[];
    assert.ok(pcieRuns.length >= 1);
    assert.ok(pcieRuns.every((r) => r.system_label === 'pcie' && r.status === 'queued'));
    const none = await api.app.inject({ method: 'GET', url: '/runs?status=completed' });
    assert.deepEqual(none.json().runs, []);
    const one = await api.app.inject({ method: 'GET', url: '/runs?limit=1' });
    assert.equal(one.json().runs.length, 1);
  });

  it('answers 404 for an unknown workload or run', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/runs', payload: { workload_id: 'wl-ffffffffffffffff', system_label: 'pcie', model: 'm' } });
    assert.equal(res.statusCode, 404);
    assert.match(res.json().message, /wl-ffffffffffffffff/);
    const run = await api.app.inject({ method: 'GET', url: '/runs/run-does-not-exist' });
    assert.equal(run.statusCode, 404);
    assert.equal(run.json().error, 'NOT_FOUND');
  });

  it('answers 400 listing the valid presets for an unknown one', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/runs',
      payload: { workload_id: workloadId, system_label: 'pcie', model: 'm', config_module: 'config_nvme' },
    });
    assert.equal(res.statusCode, 400);
    const body = res.json();
    assert.equal(body.field, 'config_module');
    assert.deepEqual(body.allowed, ['config_pcie', 'config_c2c']);
    assert.match(body.message, /config_pcie, config_c2c/);
    const custom = await api.app.inject({ method: 'POST', url: '/runs', payload: { workload_id: workloadId, system_label: 'lab', model: 'm' } });
    assert.equal(custom.statusCode, 400);
    assert.equal(custom.json().field, 'config_module');
  });

  it('refuses an engine launch command unless the server allows it', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/runs',
      payload: { workload_id: workloadId, system_label: 'pcie', model: 'm', engine: { kind: 'trtllm', launch_command: ['/bin/sh', '-c', 'id'] } },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().field, 'engine.launch_command');
  });

  it('serves the presets', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/presets' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().presets.config_pcie, { gpu_kv_max_tokens: 4096, tokens_per_block: 64, host_cache_gb: 32, enable_reuse: true });
    assert.deepEqual(res.json().presets.config_c2c, { gpu_kv_max_tokens: 2048, tokens_per_block: 64, host_cache_gb: 64, enable_reuse: true });
  });

  it('reports health with the NATS state', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/health' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok', nats: 'connected' });
  });
});
