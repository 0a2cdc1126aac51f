// Agents on separate machines (issue 9): network namespaces stand in for hosts.
//  1. NATS (deploy/nats/auth.conf, a user per role) on one host, the PCIe agent and its
//     simulator on another, the C2C agent on a third, workload-api and aggregator on a fourth,
//     a client on a fifth: one workload, a run per system, every request in /results once,
//     and the server saw no permission violation (users.conf suffices for the real services).
//  2. A three-node NATS cluster (deploy/nats/cluster/*.conf), NATS_STREAM_REPLICAS=3; the
//     leader of the event stream is killed mid-run: both runs complete, nothing is lost.
// Runs as root with iproute2 only; otherwise each test is skipped with the reason printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, copyNatsConfigs, natsServerBin, stopProcess, waitFor } from '../test-support/helpers.mjs';
import { NetLab, netlabUnavailable } from '../test-support/netlab.mjs';

const entry = (svc) => join(ROOT, 'services', svc, 'dist/src/server.js');
const nats = natsServerBin();
const skipReason = (() => {
  const lab = netlabUnavailable();
  if (lab) return lab;
  if (!nats) return 'nats-server is not installed';
  const missing = ['workload-api', 'aggregator', 'host-agent', 'engine-sim'].filter((s) => !existsSync(entry(s)));
  if (missing.length) return `services not built (${missing.join(', ')}): run pnpm exec tsc -b`;
  return null;
})();
if (skipReason) console.log(`# multi-host tests skipped: ${skipReason}`);

const PASSWORDS = { KVBENCH_NATS_API_PASSWORD: 'lab-api-pw', KVBENCH_NATS_AGENT_PASSWORD: 'lab-agent-pw', KVBENCH_NATS_AGGREGATOR_PASSWORD: 'lab-aggregator-pw' };
const WRITER = 'lab-writer-token';
const baseEnv = { PATH: process.env.PATH, HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'info' };

/** A failure message with the tails of every log, so a broken run says why. */
function logsOf(lab) {
  return lab.procs
    .filter((p) => p.logFile)
    .map((p) => `--- ${p.name} (${p.running ? 'running' : 'exited'}) ---\n${p.tail.split('\n').slice(-25).join('\n')}`)
    .join('\n');
}

/**
 * aggregator, workload-api, then each agent, each once the one before is up: every service
 * creates or updates the streams at start, and on a busy machine four of them doing so at
 * once against a three-node cluster can outlast the JetStream API timeout (see the report).
 */
async function startServices(lab, dir, natsEnv, fetchIn) {
  const up = (what, check) =>
    waitFor(check, { timeoutMs: 60_000, what }).catch((err) => {
      throw new Error(`${err.message}\n${logsOf(lab)}`);
    });
  lab.start('ctl', 'aggregator', process.execPath, [entry('aggregator')], {
    ...baseEnv, ...natsEnv.aggregator, HOST: '0.0.0.0', PORT: '8081', DB_PATH: join(dir, 'aggregator.sqlite'),
  });
  await up('aggregator /health', async () => (await fetchIn('http://ctl:8081/health')).status === 200);
  lab.start('ctl', 'workload-api', process.execPath, [entry('workload-api')], {
    ...baseEnv, ...natsEnv.api, HOST: '0.0.0.0', PORT: '8080', AUTH_TOKENS: WRITER, AGGREGATOR_URL: 'http://ctl:8081',
  });
  await up('workload-api /health', async () => (await fetchIn('http://ctl:8080/health')).status === 200);
  for (const sys of ['pcie', 'c2c']) {
    const agent = lab.start(sys, `agent-${sys}`, process.execPath, [entry('host-agent')], {
      ...baseEnv, ...natsEnv.agent, SYSTEM_LABEL: sys, AGENT_WORK_DIR: join(dir, `agent-${sys}`),
    });
    // The agent serves no HTTP; its log says when its job consumer is bound.
    await up(`agent ${sys} waiting for jobs`, () => {
      if (!agent.running) throw new Error(`agent ${sys} exited`);
      return /host agent waiting for jobs/.test(agent.tail);
    });
  }
}

/** Create the workload, submit a run per system; returns the ids and the workload's request ids. */
async function submit(fetchIn, params, timeScale = 0.05) {
  const auth = { authorization: `Bearer ${WRITER}`, 'content-type': 'application/json' };
  const w = await fetchIn('http://ctl:8080/workloads', { method: 'POST', headers: auth, body: { params }, timeoutMs: 60_000 });
  assert.equal(w.status, 201, w.text ?? w.error);
  const workload = w.json();
  const full = await fetchIn(`http://ctl:8080/workloads/${workload.id}?full=true`);
  assert.equal(full.status, 200, full.text ?? full.error);
  const requestIds = full.json().document.batches.flatMap((b) => b.requests.map((r) => r.request_id));
  assert.equal(requestIds.length, workload.requests);
  const runs = {};
  for (const system_label of ['pcie', 'c2c']) {
    const r = await fetchIn('http://ctl:8080/runs', {
      method: 'POST',
      headers: auth,
      body: {
        workload_id: workload.id, system_label, model: 'llama-3.1-8b',
        engine: { kind: 'sim', options: { time_scale: timeScale } },
        overrides: { gpu_kv_max_tokens: 8192 },
      },
    });
    assert.equal(r.status, 202, r.text ?? r.error);
    runs[system_label] = r.json().run_id;
  }
  return { workload, requestIds, runs };
}

async function waitCompleted(fetchIn, lab, runId, timeoutMs) {
  return waitFor(
    async () => {
      const r = await fetchIn(`http://ctl:8081/runs/${runId}`);
      if (r.status !== 200) return false;
      const run = r.json();
      if (run.status === 'failed') throw Object.assign(new Error(`run ${runId} failed: ${JSON.stringify(run.attempts)}`), { fatal: true });
      return run.status === 'completed' && run;
    },
    { timeoutMs, intervalMs: 500, what: `run ${runId} completed` },
  ).catch((err) => {
    throw new Error(`${err.message}\n${logsOf(lab)}`);
  });
}

/** /results has both systems, each with every request of the workload exactly once. */
async function assertResults(fetchIn, { workload, requestIds, runs }) {
  const r = await fetchIn(`http://ctl:8081/results?workload_id=${encodeURIComponent(workload.id)}`, { timeoutMs: 30_000 });
  assert.equal(r.status, 200, r.text ?? r.error);
  const results = r.json().runs;
  assert.deepEqual(Object.keys(results).sort(), ['c2c', 'pcie']);
  for (const sys of ['pcie', 'c2c']) {
    assert.equal(results[sys].length, 1, `${sys}: one run`);
    const run = results[sys][0];
    assert.equal(run.run_meta.run_id, runs[sys]);
    assert.equal(run.run_meta.simulated, true);
    const seen = run.samples.map((s) => s.request_id);
    assert.equal(seen.length, requestIds.length, `${sys}: ${seen.length} samples for ${requestIds.length} requests`);
    assert.deepEqual([...seen].sort(), [...requestIds].sort(), `${sys}: each request exactly once`);
    assert.ok(run.samples.every((s) => s.ok), `${sys}: a request failed: ${JSON.stringify(run.samples.find((s) => !s.ok))}`);
  }
  return results;
}

test('multi-host: NATS, PCIe agent, C2C agent and control plane on separate hosts, with a NATS user per role', { skip: skipReason ?? false, timeout: 240_000 }, async (t) => {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'kvbench-multihost-'));
  const lab = new NetLab(dir, 'a');
  let passed = false;
  t.after(async () => {
    await lab.close();
    // Logs of a failed run stay for a look when KVBENCH_KEEP_LOGS is set (=always: of any run).
    const keep = process.env.KVBENCH_KEEP_LOGS === 'always' || (!passed && process.env.KVBENCH_KEEP_LOGS);
    if (!keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`# logs kept in ${dir}`);
  });
  for (const h of ['nats', 'pcie', 'c2c', 'ctl', 'client']) lab.addHost(h);
  lab.writeHostsFiles();

  const conf = copyNatsConfigs(join(dir, 'nats-conf'), { storeDir: join(dir, 'nats-store') });
  // KVBENCH_NATS_TRACE=1 logs every protocol line: the subjects each role really uses.
  lab.start('nats', 'nats', nats, ['-c', join(conf, 'auth.conf'), ...(process.env.KVBENCH_NATS_TRACE ? ['-V'] : [])], { ...baseEnv, ...PASSWORDS });
  const fetchIn = lab.client('client');
  await waitFor(async () => (await fetchIn('http://nats:8222/healthz?js-enabled-only=true')).status === 200, { timeoutMs: 20_000, what: 'nats /healthz' });

  const role = (user, pw) => ({ NATS_URL: 'nats://nats:4222', NATS_USER: user, NATS_PASSWORD: pw, NATS_STREAM_REPLICAS: '1' });
  await startServices(lab, dir, {
    api: role('kvbench-api', PASSWORDS.KVBENCH_NATS_API_PASSWORD),
    aggregator: role('kvbench-aggregator', PASSWORDS.KVBENCH_NATS_AGGREGATOR_PASSWORD),
    agent: role('kvbench-agent', PASSWORDS.KVBENCH_NATS_AGENT_PASSWORD),
  }, fetchIn);
  const setupS = (Date.now() - started) / 1000;

  const sub = await submit(fetchIn, { contexts: [1024], batches_per_context: 2, batch_sizes: [2], prompt_pool_size: 2, reuse_start_batch: 1 });
  for (const sys of ['pcie', 'c2c']) await waitCompleted(fetchIn, lab, sub.runs[sys], 150_000);
  const results = await assertResults(fetchIn, sub);
  // Each agent measured its wall-clock offset against the aggregator over NATS, across hosts
  // (request/reply through the agent's and the aggregator's permissions).
  const clocks = {};
  for (const sys of ['pcie', 'c2c']) {
    const clock = results[sys][0].run_meta.clock_offset;
    assert.equal(clock?.reference, 'aggregator', `${sys} run_meta.clock_offset: ${JSON.stringify(clock)}`);
    assert.ok(clock.samples > 0 && Number.isFinite(clock.offset_ms), `${sys} run_meta.clock_offset: ${JSON.stringify(clock)}`);
    clocks[sys] = `${clock.offset_ms.toFixed(2)} ms (rtt ${clock.rtt_ms} ms)`;
  }
  t.diagnostic(`clock offsets against the aggregator: pcie ${clocks.pcie}, c2c ${clocks.c2c}`);
  // workload-api's own view of the runs (run status in the KV bucket, read as kvbench-api).
  const listed = await fetchIn('http://ctl:8080/runs');
  assert.equal(listed.status, 200, listed.text ?? listed.error);
  assert.deepEqual(listed.json().runs.map((r) => r.run_id).sort(), Object.values(sub.runs).sort(), `GET /runs: ${listed.text}`);
  for (const sys of ['pcie', 'c2c']) {
    // The agent marks the run completed in the bucket just after publishing its last event,
    // so this view may trail the aggregator's by a moment.
    await waitFor(async () => (await fetchIn(`http://ctl:8080/runs/${sub.runs[sys]}`)).json().status === 'completed', {
      timeoutMs: 20_000,
      what: `${sys} completed in the runs bucket`,
    });
  }

  // Every service did its work as its least-privileged user: no violation in the server log.
  const natsLog = readFileSync(join(dir, 'nats.log'), 'utf8');
  assert.doesNotMatch(natsLog, /Violation/, natsLog.split('\n').filter((l) => /Violation/.test(l)).join('\n'));
  // Each agent reached NATS over the lab network from its own host, as its own user.
  const connz = (await fetchIn('http://nats:8222/connz?auth=true')).json().connections;
  for (const sys of ['pcie', 'c2c']) {
    const c = connz.find((x) => x.name === `kvbench-agent-${sys}`);
    assert.ok(c, `no connection named kvbench-agent-${sys}: ${JSON.stringify(connz.map((x) => x.name))}`);
    assert.equal(c.ip, lab.hosts.get(sys).addr, `${sys} agent connected from ${c.ip}`);
    assert.equal(c.authorized_user, 'kvbench-agent');
  }
  t.diagnostic(`setup ${setupS.toFixed(1)} s, total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  passed = true;
});

test('multi-host: three-node NATS cluster, replicas 3, the event stream leader killed mid-run: nothing lost', { skip: skipReason ?? false, timeout: 300_000 }, async (t) => {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'kvbench-multihost-cluster-'));
  const lab = new NetLab(dir, 'c');
  let passed = false;
  t.after(async () => {
    await lab.close();
    // Logs of a failed run stay for a look when KVBENCH_KEEP_LOGS is set (=always: of any run).
    const keep = process.env.KVBENCH_KEEP_LOGS === 'always' || (!passed && process.env.KVBENCH_KEEP_LOGS);
    if (!keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`# logs kept in ${dir}`);
  });
  for (const h of ['nats-1', 'nats-2', 'nats-3', 'pcie', 'c2c', 'ctl', 'client']) lab.addHost(h);
  lab.writeHostsFiles();

  // The cluster files as shipped (routes by name nats-1..3), each node with its own store.
  const nodes = {};
  for (const n of [1, 2, 3]) {
    const conf = copyNatsConfigs(join(dir, `nats-${n}-conf`), { storeDir: join(dir, `nats-${n}-store`) });
    nodes[n] = lab.start(`nats-${n}`, `nats-${n}`, nats, ['-c', join(conf, `cluster/nats-${n}.conf`)], baseEnv);
  }
  const fetchIn = lab.client('client');
  // A JetStream meta leader among three peers: streams with three replicas can be created.
  await waitFor(
    async () => {
      for (const n of [1, 2, 3]) {
        const r = await fetchIn(`http://nats-${n}:8222/jsz`);
        const meta = r.status === 200 ? r.json().meta_cluster : null;
        if (!meta?.leader || meta.cluster_size !== 3) return false;
      }
      return true;
    },
    { timeoutMs: 60_000, what: 'a 3-node JetStream cluster with a leader' },
  ).catch((err) => {
    throw new Error(`${err.message}\n${logsOf(lab)}`);
  });

  const cluster = { NATS_URL: 'nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222', NATS_STREAM_REPLICAS: '3' };
  // INGEST_ACK_WAIT_S 5: events the aggregator took whose acks died with the killed leader are delivered
  // again after the ack wait; at the 30 s default that wait was most of this test's time.
  await startServices(lab, dir, { api: cluster, aggregator: { ...cluster, INGEST_ACK_WAIT_S: '5' }, agent: cluster }, fetchIn);
  const setupS = (Date.now() - started) / 1000;

  // Long enough (delay between batches, in real time: time scale 1) that the kill lands while events
  // are flowing. At time scale 0.05 the whole run took about 1 s and finished between two polls.
  const sub = await submit(fetchIn, { contexts: [1024], batches_per_context: 10, batch_sizes: [2], prompt_pool_size: 2, reuse_start_batch: 1, delay_ms: 400 }, 1);

  // Mid-run: some samples of a run have reached the aggregator, and not all.
  const midRun = await waitFor(
    async () => {
      const r = await fetchIn(`http://ctl:8081/runs/${sub.runs.pcie}`);
      const run = r.status === 200 ? r.json() : null;
      return run && run.received_samples > 0 && run.received_samples < sub.requestIds.length && run.status !== 'completed' && run;
    },
    { timeoutMs: 90_000, intervalMs: 100, what: 'the pcie run mid-way' },
  ).catch((err) => {
    throw new Error(`${err.message}\n${logsOf(lab)}`);
  });

  // The streams really have three replicas, and the victim is the event stream's leader.
  const jsz = (await fetchIn('http://nats-1:8222/jsz?accounts=true&streams=true&config=true')).json();
  const streams = jsz.account_details.flatMap((a) => a.stream_detail ?? []);
  for (const name of ['KVBENCH_JOBS', 'KVBENCH_EVENTS', 'KV_kvbench_runs', 'OBJ_kvbench_workloads']) {
    const s = streams.find((x) => x.name === name);
    assert.ok(s, `stream ${name} missing`);
    assert.equal(s.config.num_replicas, 3, `${name} replicas`);
  }
  const leader = streams.find((x) => x.name === 'KVBENCH_EVENTS').cluster.leader;
  const victim = Number(/^nats-(\d)$/.exec(leader)?.[1]);
  assert.ok(victim, `event stream leader ${leader} is not one of nats-1..3`);
  const names = async (n) => ((await fetchIn(`http://nats-${n}:8222/connz`)).json().connections ?? []).map((c) => c.name);
  const onVictim = (await names(victim)).filter((n) => n?.startsWith('kvbench-'));
  await stopProcess(nodes[victim], { signal: 'SIGKILL' });
  t.diagnostic(`killed ${leader} (leader of KVBENCH_EVENTS, clients on it: ${onVictim.join(', ') || 'none'}) with ${midRun.received_samples}/${sub.requestIds.length} pcie samples received`);

  const killedAt = Date.now();
  const done = {};
  for (const sys of ['pcie', 'c2c']) done[sys] = await waitCompleted(fetchIn, lab, sub.runs[sys], 200_000);
  t.diagnostic(`both runs completed ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill; attempts: pcie ${done.pcie.attempt_count}, c2c ${done.c2c.attempt_count}`);
  await assertResults(fetchIn, sub);
  const survivors = [1, 2, 3].filter((n) => n !== victim);
  assert.ok(survivors.every((n) => nodes[n].running), 'a surviving node exited');
  // Every service is connected to a surviving member (those that were on the victim reconnected).
  const connected = (await Promise.all(survivors.map(names))).flat();
  for (const svc of ['kvbench-workload-api', 'kvbench-aggregator', 'kvbench-agent-pcie', 'kvbench-agent-c2c']) {
    assert.ok(connected.includes(svc), `${svc} is connected to no surviving node: ${JSON.stringify(connected)}`);
  }
  t.diagnostic(`setup ${setupS.toFixed(1)} s, total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  passed = true;
});
