import { jetstream, DeliverPolicy } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { after, before } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { RunEvent, newRunId, type Job, type WorkloadDocument } from '@kvbench/common';
import { EVENTS_STREAM, WORKLOADS_BUCKET, jobSubject, setupBus } from '@kvbench/bus';
import { startNatsServer, tempDir, testJob, type NatsServerHandle } from '@kvbench/testkit';
import type { AgentConfig } from '@kvbench/host-agent';
import { generateWorkload, serializeWorkload, workloadId } from '@kvbench/workload';

export interface AgentTestBus {
  readonly nats: NatsServerHandle;
  /** The test's own connection (publishing jobs, reading events); an agent may be given it or its own. */
  readonly nc: NatsConnection;
  /** The agents' work folder. */
  readonly dir: Awaited<ReturnType<typeof tempDir>>;
}

/**
 * A nats-server of the suite's own with the bus set up, a connection to it and a work folder:
 * started in a before hook and closed in an after hook of the surrounding describe (or of the file,
 * called at top level). Its fields exist from the before hook on: read them inside tests only.
 */
export function agentTestBus(dirPrefix: string): AgentTestBus {
  let started: { nats: NatsServerHandle; nc: NatsConnection; dir: Awaited<ReturnType<typeof tempDir>> } | undefined;
  before(async () => {
    const nats = await startNatsServer();
    const nc = await connect({ servers: nats.url });
    await setupBus(nc);
    started = { nats, nc, dir: await tempDir(dirPrefix) };
  });
  after(async () => {
    await started?.nc.close();
    await started?.nats.close();
    await started?.dir.cleanup();
  });
  const get = () => {
    if (!started) throw new Error("the agent test bus is read before its before hook ran (read it inside a test)");
    return started;
  };
  return {
    get nats() {
      return get().nats;
    },
    get nc() {
      return get().nc;
    },
    get dir() {
      return get().dir;
    },
  };
}

/** An agent of system `pcie` on the simulator, no engine URLs, no link check: what each test varies from. */
export function agentConfig(natsUrl: string, workDir: string, over: Partial<AgentConfig> = {}): AgentConfig {
  return {
    systemLabel: 'pcie',
    nats: { servers: [natsUrl], replicas: 1, jobAckWaitMs: 3000 },
    workDir,
    engineStartupTimeoutMs: 120_000,
    requestTimeoutMs: 30_000,
    linkCheck: false,
    engineUrls: [],
    logLevel: 'info',
    ...over,
  };
}

export async function storeWorkload(nc: NatsConnection, doc: WorkloadDocument): Promise<string> {
  const id = workloadId(doc);
  const os = await new Objm(nc).create(WORKLOADS_BUCKET);
  await os.putBlob({ name: id }, new TextEncoder().encode(serializeWorkload(doc)));
  return id;
}

export function smallWorkload(overrides: Partial<Parameters<typeof generateWorkload>[0]> = {}): WorkloadDocument {
  return generateWorkload({
    contexts: [512],
    batches_per_context: 2,
    batch_sizes: [2],
    prompt_pool_size: 2,
    reuse_start_batch: 1,
    delay_ms: 0,
    seed: 11,
    ...overrides,
  });
}

/** A job of `workload_id` on the simulator at time scale 0.2, with a cache small enough to offload. */
export function makeJob(workload_id: string, over: Partial<Job> = {}): Job {
  return testJob({
    run_id: newRunId(),
    workload_id,
    engine: { kind: 'sim', options: { time_scale: 0.2 } },
    overrides: { gpu_kv_max_tokens: 2048, host_cache_gb: 1 },
    ...over,
  });
}

export async function publishJob(nc: NatsConnection, job: Job): Promise<void> {
  await jetstream(nc).publish(jobSubject(job.system_label), JSON.stringify(job), { msgID: job.run_id });
}

/** Every event of a run stored on the events stream so far (validated). */
export async function runEvents(nc: NatsConnection, runId: string): Promise<RunEvent[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(EVENTS_STREAM, {
    filter_subjects: `kvbench.runs.${runId}.>`,
    deliver_policy: DeliverPolicy.All,
  });
  const info = await consumer.info();
  const pending = info.num_pending;
  const out: RunEvent[] = [];
  if (pending === 0) {
    await consumer.delete().catch(() => {});
    return out;
  }
  const msgs = await consumer.fetch({ max_messages: pending, expires: 5000 });
  for await (const m of msgs) {
    out.push(RunEvent.parse(m.json()));
    if (out.length >= pending) break;
  }
  await consumer.delete().catch(() => {});
  return out;
}
