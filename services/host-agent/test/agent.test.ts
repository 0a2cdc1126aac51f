// The host agent on a real nats-server with the real simulator: jobs in, events out.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { jetstream } from '@nats-io/jetstream';
import { RunStatus, type Logger } from '@kvbench/common';
import { RUNS_BUCKET, jobSubject } from '@kvbench/bus';
import { waitFor } from '@kvbench/testkit';
import { HostAgent } from '@kvbench/host-agent';
import { agentConfig, agentTestBus, makeJob, publishJob, runEvents, smallWorkload, storeWorkload } from './helpers.js';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (lvl: string) => (o: object | string, m?: string) => lines.push(`${lvl} ${typeof o === 'string' ? o : `${m ?? ''} ${JSON.stringify(o)}`}`);
  return { lines, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

describe('host agent', () => {
  const bus = agentTestBus('kvbench-agent-');

  test('runs a job: every request sampled once, lifecycle events, status completed; malformed jobs are terminated', { timeout: 120_000 }, async () => {
    const workload = smallWorkload();
    const wid = await storeWorkload(bus.nc, workload);
    // Garbage first: it must be terminated and logged, not crash the agent or block the queue.
    await jetstream(bus.nc).publish(jobSubject('pcie'), 'not json at all');
    await jetstream(bus.nc).publish(jobSubject('pcie'), JSON.stringify({ schema: 'kvbench.job', version: 1, run_id: 'x' }));
    const job = makeJob(wid);
    await publishJob(bus.nc, job);

    const log = recordingLogger();
    const agent = await HostAgent.start(agentConfig(bus.nats.url, bus.dir.path, { linkCheck: true }), { nc: bus.nc, log });
    try {
      await waitFor(() => agent.jobsDone.includes(job.run_id), { timeoutMs: 90_000, what: 'job done' });
    } finally {
      await agent.stop();
    }
    assert.equal(log.lines.filter((l) => /terminated/.test(l)).length, 2, log.lines.join('\n'));
    assert.ok(log.lines.some((l) => /kvbench\.jobs\.pcie/.test(l)), 'the log names the subject');

    const events = await runEvents(bus.nc, job.run_id);
    const types = events.map((e) => e.type);
    assert.equal(types.filter((t) => t === 'started').length, 1);
    assert.equal(types.filter((t) => t === 'completed').length, 1);
    const samples = events.flatMap((e) => (e.type === 'sample' ? [e.sample] : []));
    const expected = workload.batches.flatMap((b) => b.requests.map((r) => r.request_id)).sort();
    assert.deepEqual(samples.map((s) => s.request_id).sort(), expected);
    assert.ok(events.every((e) => e.attempt === 1 && e.system_label === 'pcie'));
    const completed = events.find((e) => e.type === 'completed');
    assert.ok(completed?.type === 'completed');
    assert.equal(completed.run_meta.simulated, true);
    // Telemetry (issue 23): chunks of the simulator's modelled link series and a final summary, before completed.
    const tel = events.flatMap((e) => (e.type === 'telemetry' ? [e] : []));
    const finalTel = tel.find((e) => e.final);
    assert.ok(finalTel?.summary, 'a final telemetry event with the summary');
    assert.ok(events.indexOf(finalTel) < events.indexOf(completed));
    assert.equal(finalTel.summary.source, 'sim');
    assert.equal(finalTel.summary.simulated, true);
    assert.equal(new Set(tel.map((e) => e.chunk)).size, tel.length, 'every chunk published once (its own msgID)');
    const series = tel.flatMap((e) => e.points);
    assert.equal(finalTel.summary.points, series.length);
    assert.equal(series.reduce((a, p) => a + (p.pcie_tx_bytes ?? 0), 0), finalTel.summary.totals.pcie_tx_bytes);
    // LINK_CHECK on a machine without a usable GPU records why, never a guessed figure.
    const check = completed.run_meta.link_check as { status?: string; message?: string } | undefined;
    assert.ok(check && ['no_cuda', 'no_torch'].includes(check.status!), JSON.stringify(check));
    // No aggregator answers the clock subject in this test: recorded as absent, not guessed.
    assert.deepEqual(completed.run_meta.clock_offset, { absent: 'no clock reply from the aggregator' });

    const kv = await new Kvm(bus.nc).open(RUNS_BUCKET);
    const status = RunStatus.parse((await kv.get(job.run_id))!.json());
    assert.equal(status.status, 'completed');
    assert.equal(status.attempt, 1);
  });

  test('a job longer than the ack wait is not delivered twice while its agent is alive (working())', { timeout: 120_000 }, async () => {
    // Ack wait 3 s; three batches with 2.5 s pauses make the run last well beyond it.
    const workload = smallWorkload({ batches_per_context: 3, delay_ms: 2500, seed: 12 });
    const job = makeJob(await storeWorkload(bus.nc, workload));
    await publishJob(bus.nc, job);
    const agent = await HostAgent.start(agentConfig(bus.nats.url, bus.dir.path), { nc: bus.nc, log: recordingLogger() });
    try {
      await waitFor(() => agent.jobsDone.includes(job.run_id), { timeoutMs: 90_000, what: 'job done' });
    } finally {
      await agent.stop();
    }
    const events = await runEvents(bus.nc, job.run_id);
    assert.ok(events.length > 0);
    assert.deepEqual([...new Set(events.map((e) => e.attempt))], [1], 'only one attempt');
  });

  test('an engine that cannot start fails its run with a clear message; the agent serves the next job', { timeout: 120_000 }, async () => {
    const wid = await storeWorkload(bus.nc, smallWorkload());
    const broken = makeJob(wid, { engine: { kind: 'trtllm', options: {} } });
    const good = makeJob(wid);
    await publishJob(bus.nc, broken);
    await publishJob(bus.nc, good);
    const log = recordingLogger();
    const agent = await HostAgent.start(
      // No short engine start-up bound: the broken engine fails at once (ENOENT), and a 5 s bound failed the
      // good job's simulator on a loaded machine ("did not become healthy within 5 s").
      agentConfig(bus.nats.url, bus.dir.path, { trtllmServeBin: '/nonexistent/trtllm-serve' }),
      { nc: bus.nc, log },
    );
    try {
      await waitFor(() => agent.jobsDone.includes(good.run_id), { timeoutMs: 90_000, what: `second job done; log:\n${log.lines.join("\n")}` });
    } finally {
      await agent.stop();
    }
    const failed = (await runEvents(bus.nc, broken.run_id)).filter((e) => e.type === 'failed');
    assert.equal(failed.length, 1, 'one failed event');
    const f = failed[0]!;
    assert.ok(f.type === 'failed');
    // The reason travels with the engine's last log lines.
    assert.match(`${f.error}\n${f.log_tail.join('\n')}`, /could not start \/nonexistent\/trtllm-serve/);
    const kv = await new Kvm(bus.nc).open(RUNS_BUCKET);
    assert.equal(RunStatus.parse((await kv.get(broken.run_id))!.json()).status, 'failed');
  });

  test('nats-server restarted mid-run: the agent reconnects and no event is lost', { timeout: 150_000 }, async () => {
    const workload = smallWorkload({ batches_per_context: 4, delay_ms: 1500, seed: 13 });
    const job = makeJob(await storeWorkload(bus.nc, workload));
    await publishJob(bus.nc, job);
    const agentNc = await connect({ servers: bus.nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    const agent = await HostAgent.start(agentConfig(bus.nats.url, bus.dir.path, { nats: { servers: [bus.nats.url], replicas: 1, jobAckWaitMs: 20_000 } }), {
      nc: agentNc,
      log: recordingLogger(),
    });
    try {
      await waitFor(async () => (await runEvents(bus.nc, job.run_id)).some((e) => e.type === 'sample'), { timeoutMs: 60_000, what: 'first sample' });
      await bus.nats.restart();
      await waitFor(() => agent.jobsDone.includes(job.run_id), { timeoutMs: 120_000, what: 'job done after restart' });
    } finally {
      await agent.stop();
      await agentNc.close();
    }
    const events = await runEvents(bus.nc, job.run_id);
    const ids = events.flatMap((e) => (e.type === 'sample' ? [e.sample.request_id] : []));
    assert.equal(ids.length, new Set(ids).size, 'no duplicates');
    assert.equal(ids.length, workload.batches.reduce((n, b) => n + b.requests.length, 0), 'none lost');
    assert.deepEqual([...new Set(events.map((e) => e.attempt))], [1]);
  });
});
