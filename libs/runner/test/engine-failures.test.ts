/**
 * An engine that fails — never healthy, dies before or during the run, answers
 * 5xx, breaks its stream — fails the run with a clear message and a `failed`
 * event, leaves nothing running, and the next run in the same process succeeds.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { EngineError, RunEvent } from '@kvbench/common';
import { runBenchmark } from '@kvbench/runner';
import { collector, engineEnv, FIXTURES, installFakeTrtllmServe, makeJob, tempDir, tinyWorkload } from './helpers.js';

let dir: { path: string; cleanup(): Promise<void> };
before(async () => {
  dir = await tempDir();
  await installFakeTrtllmServe(dir.path, join(FIXTURES, 'fake-engine.mjs'));
});
after(() => dir.cleanup());

async function runWithMode(mode: string, agentOver: Record<string, unknown> = {}) {
  const c = collector();
  const job = makeJob({ engine: { kind: 'trtllm', options: {} } });
  const run = runBenchmark({
    job,
    workload: tinyWorkload(),
    attempt: 1,
    emit: c.emit,
    log: c.log,
    agent: {
      workDir: dir.path,
      engineEnv: engineEnv(dir.path, { FAKE_MODE: mode }),
      // A start-up bound only where a test is about it (never-healthy): a fake engine that does come up
      // may take long on a loaded machine, and that must not fail its test.
      engineStartupTimeoutMs: 120_000,
      stopGraceMs: 2_000,
      collectEnvironment: false,
      ...agentOver,
    },
  });
  return { run, events: c.events };
}

async function expectFailure(mode: string, pattern: RegExp, agentOver: Record<string, unknown> = {}) {
  const { run, events } = await runWithMode(mode, agentOver);
  const err = await run.then(
    () => assert.fail(`mode ${mode}: the run should have failed`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof EngineError, `mode ${mode}: expected EngineError, got ${String(err)}`);
  assert.match(err.message, pattern);
  const failed = events.filter((e) => e.type === 'failed');
  assert.equal(failed.length, 1, `mode ${mode}: exactly one failed event`);
  for (const e of events) RunEvent.parse(e); // every event is schema-valid
  assert.equal(events.some((e) => e.type === 'completed'), false);
  return { err, failed: failed[0]!, events };
}

async function expectSuccess() {
  const { run, events } = await runWithMode('ok');
  const result = await run;
  assert.equal(result.samples.length, 5);
  assert.ok(result.samples.every((s) => s.ok));
  assert.equal(events.at(-1)?.type, 'completed');
}

test('never healthy: times out with the engine log tail, then the next run succeeds', async () => {
  const { err, failed } = await expectFailure('never-healthy', /did not become healthy within 3 s/, { engineStartupTimeoutMs: 3_000 });
  assert.ok(err.logTail.some((l) => l.includes('fake engine starting in mode never-healthy')), err.logTail.join('\n'));
  assert.ok(failed.type === 'failed' && failed.log_tail.some((l) => l.includes('never-healthy')));
  await expectSuccess();
});

test('exits before becoming healthy: exit code and its last words are reported', async () => {
  const { err } = await expectFailure('exit-before-healthy', /exited before becoming healthy \(exit code 7\)/);
  assert.ok(err.logTail.some((l) => l.includes('CUDA out of memory')));
  await expectSuccess();
});

test('exits mid-run: the run fails naming the exit', async () => {
  const { err } = await expectFailure('exit-mid-run', /engine exited mid-run \(exit code 3\)/);
  assert.ok(err.logTail.some((l) => l.includes('fatal error in executor')));
  await expectSuccess();
});

test('answers HTTP 500: the run fails with the status and the engine message', async () => {
  const { events } = await expectFailure('http-500', /requests? failed.*HTTP 500: .*internal engine failure/);
  // The failed requests were still published as samples, marked failed.
  const samples = events.filter((e) => e.type === 'sample');
  assert.ok(samples.length >= 1);
  assert.ok(samples.every((e) => e.type === 'sample' && !e.sample.ok && e.sample.ttft_s === null));
  await expectSuccess();
});

test('broken stream: the run fails saying the stream broke', async () => {
  await expectFailure('broken-stream', /requests? failed.*stream broken/);
  await expectSuccess();
});

test('missing trtllm-serve binary: clear error', async () => {
  await expectFailure('ok', /exited before becoming healthy/, { trtllmServe: join(dir.path, 'no-such-trtllm-serve') });
});

test('custom launch command (e.g. mpirun … trtllm-serve): kvbench appends the model and flags to it', async () => {
  const c = collector();
  const launch = [process.execPath, join(FIXTURES, 'fake-engine.mjs')];
  const job = makeJob({ engine: { kind: 'trtllm', launch_command: launch, options: { tp_size: 2 } } });
  const result = await runBenchmark({
    job, workload: tinyWorkload(), attempt: 1, emit: c.emit, log: c.log,
    agent: { workDir: dir.path, engineEnv: engineEnv(dir.path, { FAKE_MODE: 'ok' }), collectEnvironment: false },
  });
  assert.equal(result.samples.length, 5);
  const argv = (result.run_meta as Record<string, any>).engine.argv as string[];
  assert.deepEqual(argv.slice(0, 3), [...launch, job.model]);
  assert.deepEqual(argv.slice(argv.indexOf('--tp_size'), argv.indexOf('--tp_size') + 2), ['--tp_size', '2']);
  // The stand-in's --help names no version: an unknown build gets the flag every 1.x accepts (ENGINES.md, PR #9104).
  assert.ok(argv.includes('--extra_llm_api_options') && !argv.includes('--config') && argv.includes('--port'));
});
