// Fault: the host agent dies mid-job (SIGKILL; Node cannot take its engine with it, so the
// simulated engine is orphaned, as on a real machine). The restarted agent kills that engine
// before taking a job (issue 25: the pid file in its work dir), the job is delivered again, the
// run restarts from its beginning as a new attempt on the restarted agent, and the abandoned
// attempt's samples are kept apart — never mixed into results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ResultsDocument, consoleLogger } from '@kvbench/common';
import { tempDir, waitFor } from '@kvbench/testkit';
import { KvbenchClient } from '../src/api-client.js';
import { startLocalStack } from '../src/stack.js';
import { MID_RUN_WORKLOAD, SIM_RUN, alive, enginesUnder, type RunDetail } from './agent-faults.js';

test('agent killed mid-run: the job restarts as attempt 2; attempt 1 is kept apart', { timeout: 240_000 }, async () => {
  const dir = await tempDir('kvbench-crash-');
  const stack = await startLocalStack({ dir: dir.path, systems: ['pcie'], log: consoleLogger('warn'), env: { JOB_ACK_WAIT_S: '3' } });
  try {
    const client = new KvbenchClient(stack.apiUrl, stack.aggregatorUrl);
    const wl = await client.createWorkload({ params: MID_RUN_WORKLOAD });
    const { run_id } = await client.submitRun({ ...SIM_RUN, workload_id: wl.id });
    const detail = async () => (await (await fetch(`${stack.aggregatorUrl}/runs/${run_id}`)).json()) as RunDetail;
    await waitFor(async () => (await detail().catch(() => null))?.received_samples! >= 1, { timeoutMs: 60_000, what: 'first sample' });

    // The agent is killed; its engine (launched under the agent's work dir) outlives it. The
    // simulator writes to the agent's pipe and would die of EPIPE at its next log line; a GPU
    // engine busy or quiet does not. Stopped (SIGSTOP) it is such an engine: alive, writing nothing.
    const engines = enginesUnder(join(dir.path, 'agent-pcie'));
    assert.equal(engines.length, 1, 'one engine running for the run');
    process.kill(engines[0]!, 'SIGSTOP');
    stack.processes.get('agent-pcie')!.kill('SIGKILL');
    await waitFor(() => stack.processes.get('agent-pcie')!.exitCode !== null || stack.processes.get('agent-pcie')!.signalCode !== null, { what: 'agent dead' });
    assert.ok(alive(engines[0]!), 'the engine outlived the SIGKILLed agent (nothing else would stop it)');
    await stack.startAgent('pcie');
    await waitFor(() => !alive(engines[0]!), { timeoutMs: 30_000, what: 'the restarted agent reaped the orphaned engine' });

    const final = await waitFor(
      async () => {
        const d = await detail();
        return d.status === 'completed' ? d : null;
      },
      { timeoutMs: 150_000, intervalMs: 500, what: 'run completed on attempt 2' },
    );
    assert.deepEqual(final.attempts.map((a) => a.attempt), [1, 2]);
    const [first, second] = final.attempts;
    assert.equal(first!.in_results, false, 'the abandoned attempt is not in results');
    assert.ok(first!.received_samples >= 1 && first!.received_samples < wl.requests, 'attempt 1 kept its partial samples');
    assert.equal(second!.in_results, true);
    assert.equal(second!.received_samples, wl.requests);

    const doc = ResultsDocument.parse(await client.results({ run_id }));
    const samples = doc.runs.pcie![0]!.samples;
    assert.equal(samples.length, wl.requests);
    assert.equal(new Set(samples.map((s) => s.request_id)).size, wl.requests, 'no request twice');
    assert.equal(doc.runs.pcie![0]!.run_meta.attempt, 2);
    // Only the restarted agent's own engine ever ran after the restart, and it stopped with the run.
    await waitFor(() => enginesUnder(join(dir.path, 'agent-pcie')).length === 0, { timeoutMs: 30_000, what: 'no engine left' });
  } finally {
    await stack.stop();
    await dir.cleanup();
  }
});
