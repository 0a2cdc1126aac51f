// Property-based fuzzing of the job message: malformed jobs published on the
// agent's subject to a running HostAgent on a real nats-server. Each must be
// terminated (the server's MSG_TERMINATED advisory names it) and logged with its
// subject; the agent never crashes and afterwards still runs a valid job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Subscription } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Job, type Logger } from '@kvbench/common';
import { JOBS_STREAM, agentConsumerName, jobSubject } from '@kvbench/bus';
import { waitFor } from '@kvbench/testkit';
import { HostAgent } from '@kvbench/host-agent';
import { agentConfig, agentTestBus, makeJob, publishJob, runEvents, smallWorkload, storeWorkload } from './helpers.js';

const SUBJECT = jobSubject('pcie');
const CONSUMER = agentConsumerName('pcie');
const MESSAGES = 60;

interface LogEntry {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}
function capturingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const rec = (level: string) => (o: object | string, m?: string) =>
    entries.push(typeof o === 'string' ? { level, msg: o, obj: {} } : { level, msg: m ?? '', obj: o as Record<string, unknown> });
  return { entries, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

const bus = agentTestBus('kvbench-agent-fuzz-');

/** What the agent would accept: a schema-valid job for its own system label. */
function acceptable(bytes: Uint8Array): boolean {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return false;
  }
  const r = Job.safeParse(value);
  return r.success && r.data.system_label === 'pcie';
}

const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

/** Paths of every field of a job, nested ones included. */
const FIELD_PATHS: string[][] = [
  ...Object.keys(makeJob('wl')).map((k) => [k]),
  ['engine', 'kind'], ['engine', 'options'], ['engine', 'url'], ['engine', 'launch_command'],
  ['overrides', 'gpu_kv_max_tokens'], ['overrides', 'host_cache_gb'], ['overrides', 'tokens_per_block'], ['overrides', 'enable_reuse'],
];

function mutate(job: Record<string, unknown>, path: string[], op: { kind: 'remove' } | { kind: 'set'; value: unknown }): Record<string, unknown> {
  const copy = structuredClone(job);
  let parent: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = parent[key];
    if (typeof next !== 'object' || next === null) return copy;
    parent = next as Record<string, unknown>;
  }
  const last = path.at(-1)!;
  if (op.kind === 'remove') delete parent[last];
  else parent[last] = op.value;
  return copy;
}

/** A wrong value for a field: another type, an out-of-range number, a bad string. */
const wrongValue = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e309 /* serialised as null */, '', ' ', 'pcie', 'c2c', 'x'.repeat(300), '../../etc/passwd', [], {}, ['a'], { kind: 'sim' }),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.anything({ maxDepth: 2 }),
);

const mutatedJob = fc
  .tuple(fc.constantFrom(...FIELD_PATHS), fc.oneof(fc.constant({ kind: 'remove' as const }), wrongValue.map((value) => ({ kind: 'set' as const, value }))))
  .map(([path, op]) => ({ kind: `job.${path.join('.')} ${op.kind}`, bytes: enc(mutate(makeJob('wl-fuzz') as unknown as Record<string, unknown>, path, op)) }));

const randomJson = fc.oneof(fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))).map((s) => ({ kind: 'random json', bytes: enc(s) }));

const nonJson = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((bytes) => ({ kind: 'random bytes', bytes })),
  // A valid job cut short, and one with invalid UTF-8 inside.
  fc.nat({ max: 400 }).map((n) => ({ kind: 'truncated job', bytes: enc(JSON.stringify(makeJob('wl-fuzz')).slice(0, n)) })),
  fc.constant({ kind: 'invalid utf-8', bytes: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) }),
);

/** The wrapper's shape: a job message for another system on this system's subject. */
const otherSystem = fc
  .constantFrom('c2c', 'gh200', 'a', 'pcie2')
  .map((label) => ({ kind: 'other system', bytes: enc(makeJob('wl-fuzz', { system_label: label })) }));

const badMessage = fc.oneof(mutatedJob, mutatedJob, randomJson, nonJson, otherSystem).filter((m) => !acceptable(m.bytes));

test(`${MESSAGES} malformed job messages: each terminated and logged with its subject; no crash; a valid job still runs`, { timeout: 120_000 }, async (t) => {
  const wid = await storeWorkload(bus.nc, smallWorkload());
  const log = capturingLogger();
  // A short ack wait: a bad message left unterminated would come back quickly and be seen twice.
  const config = agentConfig(bus.nats.url, bus.dir.path, { nats: { servers: [bus.nats.url], replicas: 1, jobAckWaitMs: 1000 } });
  const agent = await HostAgent.start(config, { nc: bus.nc, log });
  const js = jetstream(bus.nc);
  const jsm = await jetstreamManager(bus.nc);

  // The server tells which stream sequences it terminated.
  const terminated = new Map<number, number>();
  const advisories: Subscription = bus.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${JOBS_STREAM}.${CONSUMER}`, {
    callback: (_err, m) => {
      if (!m) return;
      const seq = (m.json() as { stream_seq: number }).stream_seq;
      terminated.set(seq, (terminated.get(seq) ?? 0) + 1);
    },
  });
  await bus.nc.flush();

  const kinds: Record<string, number> = {};
  const published: number[] = [];
  let valid: ReturnType<typeof makeJob> | undefined;
  try {
    await fc.assert(
      fc.asyncProperty(badMessage, async (m) => {
        const kind = m.kind.startsWith('job.') ? 'mutated job' : m.kind;
        kinds[kind] = (kinds[kind] ?? 0) + 1;
        const logsBefore = log.entries.length;
        const { seq } = await js.publish(SUBJECT, m.bytes);
        published.push(seq);
        await waitFor(async () => {
          const info = await jsm.consumers.info(JOBS_STREAM, CONSUMER);
          return terminated.has(seq) && info.num_ack_pending === 0 && info.num_pending === 0 && info.delivered.stream_seq >= seq;
        }, { timeoutMs: 120_000, intervalMs: 20, what: `message ${seq} (${m.kind}) terminated` });
        // One message at a time: what was logged since the publish is about this message.
        const logged = log.entries.slice(logsBefore);
        assert.equal(logged.length, 1, `one log entry for ${seq} (${m.kind}): ${JSON.stringify(logged)}`);
        assert.equal(logged[0]!.level, 'error');
        assert.equal(logged[0]!.obj.subject, SUBJECT);
        assert.match(logged[0]!.msg, /terminated/);
      }),
      { numRuns: MESSAGES, seed: Number(process.env.FUZZ_SEED ?? 20261128), endOnFailure: true },
    );

    // Nothing came back: every bad message terminated once, none delivered twice.
    assert.equal(published.length, MESSAGES);
    assert.deepEqual([...terminated.keys()].sort((a, b) => a - b), published);
    assert.ok([...terminated.values()].every((n) => n === 1));
    const info = await jsm.consumers.info(JOBS_STREAM, CONSUMER);
    assert.equal(info.num_redelivered, 0);
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.num_pending, 0);
    t.diagnostic(`bad messages by kind: ${JSON.stringify(kinds)}`);

    // Still serving: a valid job runs to completion.
    valid = makeJob(wid);
    await publishJob(bus.nc, valid);
    const runId = valid.run_id;
    await waitFor(() => agent.jobsDone.includes(runId), { timeoutMs: 60_000, what: 'valid job done after the fuzzing' });
  } finally {
    advisories.unsubscribe();
    await agent.stop();
  }
  const events = await runEvents(bus.nc, valid!.run_id);
  assert.equal(events.filter((e) => e.type === 'completed').length, 1);
  assert.equal(
    events.filter((e) => e.type === 'sample').length,
    smallWorkload().batches.reduce((n, b) => n + b.requests.length, 0),
  );
  assert.equal(log.entries.filter((e) => /terminated/.test(e.msg)).length, MESSAGES, 'no other message terminated');
});
