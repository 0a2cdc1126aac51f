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

test('a lane starts its longest files first: unknown ones (whole-stack first), then by the last run time', () => {
  const { scheduleOrder } = lanes as unknown as { scheduleOrder(files: string[], lastMs?: Record<string, number>): string[] };
  const files = ['libs/a/dist/test/x.test.js', 'services/b/dist/test/y.test.js', 'apps/cli/dist/test/z.test.js', 'deploy/test/d.test.mjs'];
  assert.deepEqual(scheduleOrder(files), ['deploy/test/d.test.mjs', 'apps/cli/dist/test/z.test.js', 'services/b/dist/test/y.test.js', 'libs/a/dist/test/x.test.js']);
  assert.deepEqual(
    scheduleOrder(files, { 'libs/a/dist/test/x.test.js': 90_000, 'apps/cli/dist/test/z.test.js': 5_000, 'deploy/test/d.test.mjs': 40_000 }),
    ['services/b/dist/test/y.test.js', 'libs/a/dist/test/x.test.js', 'deploy/test/d.test.mjs', 'apps/cli/dist/test/z.test.js'],
  );
});
