// kvbench up's per-system agent users (nats-users.ts), made from deploy/nats/users.conf itself:
// each user reads only its own system's jobs, the rest of the role is users.conf's, and a
// users.conf that no longer has the lines to narrow is refused rather than handed out wide.
// That nats-server accepts the result and enforces it: bus-auth.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { perLabelUsersConf } from '../src/nats-users.js';

const USERS_CONF = readFileSync(fileURLToPath(new URL('../../../../deploy/nats/users.conf', import.meta.url)), 'utf8');

test('one agent user per system, narrowed to its own job consumer; api and aggregator untouched', () => {
  const out = perLabelUsersConf(USERS_CONF, new Map([['pcie', 'kvbAAA'], ['c2c', 'kvbBBB']]));
  assert.ok(!/user: kvbench-agent$/m.test(out), 'the shared agent user is gone');
  assert.ok(!out.includes('$KVBENCH_NATS_AGENT_PASSWORD'));
  assert.equal(out.match(/user: kvbench-agent-pcie$/gm)?.length, 1);
  assert.equal(out.match(/user: kvbench-agent-c2c$/gm)?.length, 1);
  assert.ok(out.includes('password: "kvbAAA"') && out.includes('password: "kvbBBB"'));
  for (const wide of ['CONSUMER.CREATE.KVBENCH_JOBS.>', 'CONSUMER.INFO.KVBENCH_JOBS.>', 'CONSUMER.MSG.NEXT.KVBENCH_JOBS.>', '$JS.ACK.KVBENCH_JOBS.>']) {
    // Only the api role (which publishes jobs and creates every label's consumer) keeps a wide form.
    const agentPart = out.slice(out.indexOf('user: kvbench-agent-pcie'), out.indexOf('user: kvbench-aggregator'));
    assert.ok(!agentPart.includes(wide), `no agent user keeps ${wide}`);
  }
  assert.ok(out.includes('"$JS.API.CONSUMER.CREATE.KVBENCH_JOBS.agent-c2c.kvbench.jobs.c2c"'));
  assert.ok(out.includes('"$JS.API.CONSUMER.MSG.NEXT.KVBENCH_JOBS.agent-pcie"'));
  assert.ok(out.includes('"$JS.ACK.KVBENCH_JOBS.agent-pcie.>"'));
  // Everything outside the agent block is byte for byte users.conf's.
  const outside = (t: string) => [t.slice(0, t.indexOf('user: kvbench-agent')), t.slice(t.indexOf('user: kvbench-aggregator'))];
  assert.deepEqual(outside(out).map((p) => p.replace(/\s+$/, '')), outside(USERS_CONF).map((p) => p.replace(/\s+$/, '')));
});

test('a users.conf whose agent role lost a line to narrow is refused', () => {
  const broken = USERS_CONF.replace('"$JS.API.CONSUMER.MSG.NEXT.KVBENCH_JOBS.>"', '"$JS.API.CONSUMER.MSG.NEXT.>"');
  assert.throws(() => perLabelUsersConf(broken, new Map([['pcie', 'kvbA']])), /no longer has "\$JS\.API\.CONSUMER\.MSG\.NEXT\.KVBENCH_JOBS\.>"/);
  assert.throws(() => perLabelUsersConf(USERS_CONF.replace('user: kvbench-agent\n', 'user: agents\n'), new Map([['pcie', 'kvbA']])), /no "user: kvbench-agent" block/);
});
