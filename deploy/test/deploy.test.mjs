// deploy/: every file passes the checks that can run here (validate.sh), the checks do catch
// broken files, and the NATS users of users.conf can do their service's work and no more,
// against a real nats-server started from auth.conf.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPLOY, ROOT, copyNatsConfigs, freePort, kvbenchCommon, natsModules, natsServerBin, spawnLogged, stopProcess, waitFor } from '../test-support/helpers.mjs';

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000, ...opts });

test('validate.sh: every check that can run here passes, and it says what it skipped', (t) => {
  const r = run('bash', [join(DEPLOY, 'validate.sh')]);
  const out = `${r.stdout}${r.stderr}`;
  for (const line of out.split('\n').filter((l) => l.startsWith('skip'))) t.diagnostic(line);
  assert.equal(r.status, 0, out);
  assert.doesNotMatch(out, /^FAIL/m, out);
  assert.match(out, /^validate: \d+ ok, \d+ skipped, 0 failed$/m);
  // Each family of checks either ran or was reported as skipped with a reason.
  for (const [ran, skipped] of [
    [/^ok {3}nats-server -t deploy\/nats\/cluster\/nats-3\.conf$/m, /^skip nats configs: /m],
    [/^ok {3}nats-server -t deploy\/nats\/auth\.conf$/m, /^skip nats configs: /m],
    [/^ok {3}compose: /m, null],
    [/^ok {3}k8s: /m, null],
    [/^ok {3}systemd-analyze verify kvbench-host-agent@pcie\.service$/m, /^skip systemd units: /m],
  ]) {
    assert.ok(ran.test(out) || (skipped && skipped.test(out)), `neither ${ran} nor ${skipped} in:\n${out}`);
  }
});

test('check-manifests.mjs fails on broken copies of the deploy files, naming each fault', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvbench-deploy-broken-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(DEPLOY, join(dir, 'deploy'), { recursive: true });
  const edit = (rel, from, to) => {
    const p = join(dir, 'deploy', rel);
    const text = readFileSync(p, 'utf8');
    assert.ok(text.includes(from), `${rel} no longer contains ${from}`);
    writeFileSync(p, text.replace(from, to));
  };
  // One fault of each kind the checker claims to catch.
  edit('docker/docker-compose.yml', 'condition: service_healthy\n      aggregator:', 'condition: service_healthy\n      aggregatr:');
  edit('k8s/workload-api.yaml', 'selector:\n    app.kubernetes.io/name: kvbench-workload-api', 'selector:\n    app.kubernetes.io/name: kvbench-workload-apj');
  edit('k8s/agents.yaml', '- { name: SYSTEM_LABEL, value: c2c }', '- { name: SYSTEM_LABEL, value: gh200 }');
  edit('k8s/aggregator.yaml', 'key: KVBENCH_NATS_AGGREGATOR_PASSWORD', 'key: KVBENCH_NATS_AGGREGATOR_PASSWD');
  edit('systemd/env/host-agent.env', 'ENGINE_STARTUP_TIMEOUT_S=900', 'ENGINE_START_TIMEOUT_S=900');
  const r = run(process.execPath, [join(DEPLOY, 'check-manifests.mjs'), '--deploy', join(dir, 'deploy')]);
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 1, out);
  assert.match(out, /^FAIL .*services\.workload-api: depends_on aggregatr: no such service/m);
  assert.match(out, /^FAIL k8s\/workload-api\.yaml Service\/kvbench-workload-api: selector .* matches no pod template/m);
  assert.match(out, /^FAIL k8s\/agents\.yaml Deployment\/kvbench-agent-c2c: nodeSelector kvbench\.io\/system \(c2c\) must equal SYSTEM_LABEL \(gh200\)/m);
  assert.match(out, /^FAIL k8s\/aggregator\.yaml .*no key KVBENCH_NATS_AGGREGATOR_PASSWD in Secret kvbench-nats-users/m);
  if (/^skip env-names/m.test(out)) t.diagnostic('variable names not cross-checked: services not built');
  else assert.match(out, /^FAIL systemd\/env\/host-agent\.env:\d+: ENGINE_START_TIMEOUT_S is not read by host-agent/m);
});

const nats = natsServerBin();
const PASSWORDS = { KVBENCH_NATS_API_PASSWORD: 'pw-api', KVBENCH_NATS_AGENT_PASSWORD: 'pw-agent', KVBENCH_NATS_AGGREGATOR_PASSWORD: 'pw-aggregator' };

test('auth.conf refuses to start without the role passwords (no silent empty password)', { skip: !nats && 'nats-server is not installed' }, () => {
  const env = { ...process.env };
  for (const k of Object.keys(PASSWORDS)) delete env[k];
  const r = run(nats, ['-t', '-c', join(DEPLOY, 'nats/auth.conf')], { env });
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /KVBENCH_NATS_API_PASSWORD/);
});

test('users.conf: each role can do its service\'s work on the bus, and is refused the rest', { skip: !nats && 'nats-server is not installed', timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvbench-auth-'));
  const [port, http] = [await freePort(), await freePort()];
  copyNatsConfigs(join(dir, 'conf'), { storeDir: join(dir, 'js'), listen: `127.0.0.1:${port}`, http: `127.0.0.1:${http}` });
  const server = spawnLogged('nats', nats, ['-c', join(dir, 'conf/auth.conf')], { env: { ...process.env, ...PASSWORDS }, logFile: join(dir, 'nats.log') });
  const conns = [];
  t.after(async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => {})));
    await stopProcess(server);
    rmSync(dir, { recursive: true, force: true });
  });
  await waitFor(async () => (await fetch(`http://127.0.0.1:${http}/healthz`).catch(() => null))?.ok, { timeoutMs: 15_000, what: 'nats-server /healthz' });

  const m = await natsModules();
  const c = await kvbenchCommon();
  const servers = `nats://127.0.0.1:${port}`;
  const as = async (user) => {
    const nc = await m.connect({ servers, user, pass: PASSWORDS[`KVBENCH_NATS_${user.slice('kvbench-'.length).toUpperCase()}_PASSWORD`], name: user });
    conns.push(nc);
    return nc;
  };
  await assert.rejects(m.connect({ servers, user: 'nobody', pass: 'x', maxReconnectAttempts: 0 }), /Authorization Violation/);
  await assert.rejects(m.connect({ servers, user: 'kvbench-agent', pass: 'pw-api', maxReconnectAttempts: 0 }), /Authorization Violation/);

  // workload-api: streams and buckets, a workload, a job for a system that has no agent yet.
  const api = await as('kvbench-api');
  const apiJsm = await c.setupBus(api, 1);
  const runs = await new m.Kvm(api).create(c.RUNS_BUCKET, { replicas: 1 });
  const workloads = await new m.Objm(api).create(c.WORKLOADS_BUCKET, { replicas: 1 });
  await workloads.putBlob({ name: 'w1' }, new TextEncoder().encode('x'.repeat(300_000)));
  await c.ensureJobConsumer(apiJsm, 'pcie');
  await m.jetstream(api).publish(c.jobSubject('pcie'), JSON.stringify({ run_id: 'r1' }), { msgID: 'job-r1' });
  await runs.put('r1', JSON.stringify({ status: 'queued' }));

  // aggregator: serves the clock, consumes events.
  const agg = await as('kvbench-aggregator');
  const aggJsm = await c.setupBus(agg, 1);
  c.serveClock(agg);
  await c.ensureAggregatorConsumer(aggJsm);

  // host agent: takes the job, reads the workload, writes status, publishes events, asks the time.
  const agent = await as('kvbench-agent');
  const agentJsm = await c.setupBus(agent, 1);
  const agentJs = m.jetstream(agent);
  const consumer = await agentJs.consumers.get(c.JOBS_STREAM, await c.ensureJobConsumer(agentJsm, 'pcie'));
  const job = await consumer.next({ expires: 5000 });
  assert.ok(job, 'the agent received no job');
  job.working();
  const store = await new m.Objm(agent).open(c.WORKLOADS_BUCKET);
  assert.equal((await store.getBlob('w1'))?.length, 300_000);
  const agentRuns = await new m.Kvm(agent).open(c.RUNS_BUCKET);
  assert.equal((await agentRuns.get('r1'))?.json().status, 'queued');
  await agentRuns.put('r1', JSON.stringify({ status: 'running' }));
  for (let i = 0; i < 3; i++) await agentJs.publish(c.eventSubject('r1', 'sample'), JSON.stringify({ i }), { msgID: `r1-${i}` });
  assert.ok(await job.ackAck(), 'job ack not confirmed');
  const clock = await c.measureClockOffset(agent, 2, 2000);
  assert.ok(clock && clock.samples === 2, 'the agent got no clock reply from the aggregator');

  // aggregator: every event, acked; run status readable.
  const events = await m.jetstream(agg).consumers.get(c.EVENTS_STREAM, c.AGGREGATOR_CONSUMER);
  const got = [];
  const batch = await events.fetch({ max_messages: 3, expires: 5000 });
  for await (const msg of batch) {
    got.push(msg.json().i);
    msg.ack();
  }
  assert.deepEqual(got.sort(), [0, 1, 2]);
  // workload-api: reads run status back, lists runs (an ordered consumer over the keys).
  assert.equal((await runs.get('r1'))?.json().status, 'running');
  const keys = [];
  for await (const k of await runs.keys()) keys.push(k);
  assert.deepEqual(keys, ['r1']);

  // Least privilege: what each role must not do.
  const refused = async (what, p) => assert.rejects(p, /Permissions Violation/, what);
  await refused('agent submits a job', agentJs.publish(c.jobSubject('c2c'), '{}', { timeout: 3000 }));
  await refused('aggregator forges an event', m.jetstream(agg).publish(c.eventSubject('r1', 'sample'), '{}', { timeout: 3000 }));
  await refused('aggregator deletes the job stream', aggJsm.streams.delete(c.JOBS_STREAM));
  await refused('agent purges the event stream', agentJsm.streams.purge(c.EVENTS_STREAM));
  await refused('api deletes the event stream', apiJsm.streams.delete(c.EVENTS_STREAM));
  await refused('agent creates a stream of its own', agentJsm.streams.add({ name: 'OTHER', subjects: ['other.>'] }));
  await refused('api takes the aggregator\'s events', m.jetstream(api).consumers.get(c.EVENTS_STREAM, c.AGGREGATOR_CONSUMER).then((k) => k.next({ expires: 2000 })));
  // The aggregator reads run status and workloads (sample checks, issue 25) but writes neither.
  const aggRuns = await new m.Kvm(agg).open(c.RUNS_BUCKET);
  assert.ok(await aggRuns.get('r1'), 'the aggregator reads run status');
  assert.ok(await new m.Objm(agg).open(c.WORKLOADS_BUCKET).then((o) => o.getBlob('w1')), 'the aggregator reads a workload');
  await refused('aggregator writes run status', aggRuns.put('r1', '{}', { timeout: 3000 }));
  await refused('agent overwrites a workload', store.putBlob({ name: 'w1' }, new Uint8Array(10)));

  // The only violations the server saw are the refusals above: the positive half needed no
  // subject outside users.conf. (Its log may trail the -ERR sent to the client by a moment.)
  const expected = [
    /User "kvbench-agent", Subject "kvbench\.jobs\.c2c"/,
    /User "kvbench-aggregator", Subject "kvbench\.runs\.r1\.sample"/,
    /User "kvbench-aggregator", Subject "\$JS\.API\.STREAM\.DELETE\.KVBENCH_JOBS"/,
    /User "kvbench-agent", Subject "\$JS\.API\.STREAM\.PURGE\.KVBENCH_EVENTS"/,
    /User "kvbench-api", Subject "\$JS\.API\.STREAM\.DELETE\.KVBENCH_EVENTS"/,
    /User "kvbench-agent", Subject "\$JS\.API\.STREAM\.CREATE\.OTHER"/,
    /User "kvbench-api", Subject "\$JS\.API\.CONSUMER\.INFO\.KVBENCH_EVENTS\.aggregator"/,
    /User "kvbench-aggregator", Subject "\$KV\.kvbench_runs\.r1"/,
    /User "kvbench-agent", Subject "\$(O\.kvbench_workloads\.C\.|JS\.API\.STREAM\.PURGE\.OBJ_kvbench_workloads)/,
  ];
  const violations = () => readFileSync(join(dir, 'nats.log'), 'utf8').split('\n').filter((l) => / - Publish Violation - /.test(l));
  await waitFor(() => expected.every((re) => violations().some((l) => re.test(l))), { timeoutMs: 5000, what: 'every refusal in the server log' }).catch(() => {});
  for (const re of expected) assert.ok(violations().some((l) => re.test(l)), `no violation ${re} in the server log`);
  const unexpected = violations().filter((l) => !expected.some((re) => re.test(l)));
  assert.deepEqual(unexpected, [], 'a role was refused something its service needs');
});
