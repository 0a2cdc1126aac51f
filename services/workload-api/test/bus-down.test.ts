import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@kvbench/testkit';
import { apiForSuite, SMALL_PARAMS } from './helpers.js';

describe('NATS down', () => {
  const api = apiForSuite({ LOG_LEVEL: 'fatal' });
  let workloadId: string;
  before(async () => {
    workloadId = (await api.app.inject({ method: 'POST', url: '/workloads', payload: { params: SMALL_PARAMS } })).json().id;
  });

  it('answers 503 (not 500) while the bus is unreachable, and recovers when it is back', async () => {
    await api.nats.stop();
    const run = await api.app.inject({ method: 'POST', url: '/runs', payload: { workload_id: workloadId, system_label: 'pcie', model: 'm' } });
    assert.equal(run.statusCode, 503, run.body);
    assert.equal(run.json().error, 'BUS_ERROR');
    const get = await api.app.inject({ method: 'GET', url: `/workloads/${workloadId}` });
    assert.equal(get.statusCode, 503, get.body);
    // A bad body is still a 400: validation never needs the bus.
    const bad = await api.app.inject({ method: 'POST', url: '/runs', payload: { system_label: 'pcie' } });
    assert.equal(bad.statusCode, 400);

    await api.nats.restart();
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
