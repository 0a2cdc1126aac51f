// The test lanes of scripts/run-tests.mjs: membership by file name, and the unit lane's guard.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const lanes = (await import(new URL('../../../../scripts/test-lanes.mjs', import.meta.url).href)) as { laneOf(file: string): string };

test('a file is in the lane its name says', () => {
  assert.equal(lanes.laneOf('libs/report/dist/test/bootstrap.unit.test.js'), 'unit');
  assert.equal(lanes.laneOf('services/aggregator/dist/test/live-page.browser.test.js'), 'browser');
  assert.equal(lanes.laneOf('apps/cli/dist/test/up.test.js'), 'process');
  assert.equal(lanes.laneOf('deploy/test/deploy.test.mjs'), 'process');
});

test('the unit lane refuses to start a process, naming the lane to move to', { skip: process.env.KVBENCH_TEST_LANE !== 'unit' && 'only through scripts/run-tests.mjs' }, () => {
  assert.throws(() => spawnSync('true'), /unit lane: a \*\.unit\.test file may not start a process/);
});
