// Fault (issue 25, agent_lost): the host agent running a job hangs (SIGSTOP: alive, connected,
// silent; a killed agent whose connection lingers looks the same to the bus). Its presence entry
// stops being renewed; once it is older than three heartbeats the workload-api's reconciler puts
// the running run back to `queued` with a note saying which agent vanished, visible at
// GET /runs/:id. Another agent of the same system then takes the job (redelivered after its ack
// wait) and the run completes as attempt 2; attempt 1's partial samples stay out of results.
// Short timings through configuration: heartbeats every 500 ms (gone after 5 s), a reconcile
// pass every second, a 3 s ack wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ResultsDocument, consoleLogger, type RunStatus } from '@kvbench/common';
import { tempDir, waitFor } from '@kvbench/testkit';
import { KvbenchClient } from '../src/api-client.js';
import { startLocalStack } from '../src/stack.js';
import { MID_RUN_WORKLOAD, SIM_RUN, enginesUnder, type RunDetail } from './agent-faults.js';

test('agent hangs mid-run: its presence expires, the run goes back to queued with a note, and completes on another agent', { timeout: 240_000 }, async () => {
  const dir = await tempDir('kvbench-agent-lost-');
  const stack = await startLocalStack({
    dir: dir.path,
    systems: ['pcie'],
    log: consoleLogger('warn'),
    env: { JOB_ACK_WAIT_S: '3', AGENT_HEARTBEAT_MS: '500', RECONCILE_INTERVAL_S: '1' },
  });
  const hung = stack.processes.get('agent-pcie')!;
  try {
    const client = new KvbenchClient(stack.apiUrl, stack.aggregatorUrl);
    const wl = await client.createWorkload({ params: MID_RUN_WORKLOAD });
    const { run_id } = await client.submitRun({ ...SIM_RUN, workload_id: wl.id });
    const status = async () => (await (await fetch(`${stack.apiUrl}/runs/${run_id}`)).json()) as RunStatus;
    const detail = async () => (await (await fetch(`${stack.aggregatorUrl}/runs/${run_id}`)).json()) as RunDetail;
    await waitFor(async () => (await detail().catch(() => null))?.received_samples! >= 1, { timeoutMs: 60_000, what: 'first sample' });
    const running = await status();
    assert.equal(running.status, 'running');
    assert.ok(running.agent_id, 'the run names its agent');

    hung.kill('SIGSTOP');
    const lost = await waitFor(
      async () => {
        const s = await status();
        return s.status === 'queued' ? s : null;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the run back to queued once the agent is gone' },
    );
    assert.match(lost.note ?? '', new RegExp(`agent ${running.agent_id!.replace(/\./g, '\\.')} vanished \\(no heartbeat\\) during attempt 1`));
    assert.equal(lost.attempt, 1);

    // Another agent of the system (its own work dir) takes the job once the hung one's ack wait ran out.
    await stack.startAgent('pcie', 'b');
    const final = await waitFor(
      async () => {
        const d = await detail();
        return d.status === 'completed' ? d : null;
      },
      { timeoutMs: 150_000, intervalMs: 500, what: 'run completed on the other agent' },
    );
    assert.deepEqual(final.attempts.map((a) => a.attempt), [1, 2]);
    const [first, second] = final.attempts;
    assert.equal(first!.in_results, false, 'the hung attempt is not in results');
    assert.ok(first!.received_samples >= 1 && first!.received_samples < wl.requests, 'attempt 1 kept its partial samples');
    assert.equal(second!.in_results, true);
    assert.equal(second!.received_samples, wl.requests);

    // The run's status entry turns completed after the agent published the completed event the
    // aggregator shows (agent.ts: runBenchmark, then updateRunStatus): wait for it, do not race it.
    const done = await waitFor(
      async () => {
        const s = await status();
        return s.status === 'completed' ? s : null;
      },
      { intervalMs: 250, what: 'the run status completed' },
    );
    assert.notEqual(done.agent_id, running.agent_id, 'completed by the other agent');
    assert.equal(done.note, lost.note, 'the note stays on the run');

    const doc = ResultsDocument.parse(await client.results({ run_id }));
    assert.equal(doc.runs.pcie![0]!.samples.length, wl.requests);
    assert.equal(doc.runs.pcie![0]!.run_meta.attempt, 2);
  } finally {
    // The hung agent cannot take SIGTERM while stopped, and never kills its engine now: both by hand.
    hung.kill('SIGKILL');
    for (const pid of enginesUnder(join(dir.path, 'agent-pcie'))) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    await stack.stop();
    await dir.cleanup();
  }
});
