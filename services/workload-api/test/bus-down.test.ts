import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startNatsServer, waitFor, type NatsServerHandle } from '@kvbench/testkit';
import { SMALL_PARAMS, startApi, type Api } from './helpers.js';

describe('NATS down', () => {
  let nats: NatsServerHandle;
  let api: Api;
  let workloadId: string;
  before(async () => {
    nats = await startNatsServer();
    api = await startApi(nats, { LOG_LEVEL: 'fatal' });
    workloadId = (await api.app.inject({ method: 'POST', url: '/workloads', payload: { params: SMALL_PARAMS } })).json().id;
  });
  after(async () => {
    await api?.close();
    await nats?.close();
  });

  it('answers 503 (not 500) while the bus is unreachable, and recovers when it is back', async () => {
    await nats.stop();
    const run = await api.app.inject({ method: 'POST', url: '/runs', payload: { workload_id: workloadId, system_label: 'pcie', model: 'm' } });
    assert.equal(run.statusCode, 503, run.body);
    assert.equal(run.json().error, 'BUS_ERROR');
    const get = await api.app.inject({ method: 'GET', url: `/workloads/${workloadId}` });
    assert.equal(get.statusCode, 503, get.body);
    // A bad body is still a 400: validation never needs the bus.
    const bad = await api.app.inject({ method: 'POST', url: '/runs', payload: { system_label: 'pcie' } });
    assert.equal(bad.statusCode, 400);

    await nats.restart();
    const again = await waitFor(
      async () => {
        const res = await api.app.inject({ method: 'POST', url: '/runs', payload: { workload_id: workloadId, system_label: 'pcie', model: 'm' } });
        return res.statusCode === 202 ? res : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'POST /runs to succeed after the restart' },
    );
    const status = await api.app.inject({ method: 'GET', url: `/runs/${again.json().run_id}` });
    assert.equal(status.json().status, 'queued');
  });
});
