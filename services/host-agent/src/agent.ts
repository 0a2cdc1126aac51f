import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { jetstream, type JetStreamClient, type JsMsg, type Consumer } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { BusError, EngineError, KvbenchError, NotFoundError, RunCancelledError, Job, JobMessage, ValidationError, describeZodError, engineUrlRefusal, profileRefusal, runEvent, type Logger } from '@kvbench/common';
import { EventPublisher, cancelRequested, runStatusFromEntry, openAgentsBucket, JOBS_STREAM, JOB_MAX_DELIVER, RUNS_BUCKET, WORKLOADS_BUCKET, ensureJobConsumer, measureClockOffset, setupBus } from '@kvbench/bus';
import { parseAnyWorkload } from '@kvbench/workload';
import { killRunningEngines, reapRecordedEngines, recordEnginesIn, runBenchmark, type AgentOptions } from '@kvbench/runner';
import { linkCheck } from '@kvbench/probe';
import { runTelemetry } from '@kvbench/telemetry';
import { SIM_MAIN_PATH, defaultProfileForSystem, kvBytesPerToken, listProfiles, resolveModelShape } from '@kvbench/engine-sim';
import { startAttempt, updateRunStatus } from './run-status.js';
import { AgentPresence } from './presence.js';
import type { AgentConfig } from './config.js';

/** In the agent's work dir: the engines it runs now (pid and argv), what a successor reaps. */
export const ENGINE_PID_FILE = 'engines.pid.json';

/** How often a running job tells JetStream it is still being worked on (well under the ack wait). */
const WORKING_INTERVAL_MS = 2_000;

export interface HostAgentDeps {
  nc: NatsConnection;
  log: Logger;
}

/**
 * Takes its system's jobs one at a time from the durable job consumer, runs each
 * with @kvbench/runner and publishes every event. A job is acked only once its
 * final event is stored by JetStream; if the agent dies mid-run the job is
 * delivered again and restarts from the beginning as a new attempt.
 */
export class HostAgent {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private current: { msg: JsMsg; abort: AbortController } | undefined;
  readonly jobsDone: string[] = [];

  private constructor(
    private readonly config: AgentConfig,
    private readonly deps: HostAgentDeps,
    private readonly js: JetStreamClient,
    private readonly consumer: Consumer,
    private readonly workloads: ObjectStore,
    private readonly runs: KV,
    readonly presence: AgentPresence,
  ) {}

  static async start(config: AgentConfig, deps: HostAgentDeps): Promise<HostAgent> {
    // Before taking any job: stop what an agent killed in this work dir left running (issue 25).
    await mkdir(config.workDir, { recursive: true });
    const pidFile = join(config.workDir, ENGINE_PID_FILE);
    const reaped = reapRecordedEngines(pidFile);
    if (reaped.length > 0) deps.log.warn({ pids: reaped, pid_file: pidFile }, 'killed engines a previous agent in this work dir left running');
    recordEnginesIn(pidFile);
    process.once('exit', killRunningEngines);
    const jsm = await setupBus(deps.nc, config.nats.replicas);
    const consumerName = await ensureJobConsumer(jsm, config.systemLabel, { ackWaitMs: config.nats.jobAckWaitMs });
    const js = jetstream(deps.nc);
    const consumer = await js.consumers.get(JOBS_STREAM, consumerName);
    const workloads = await new Objm(deps.nc).create(WORKLOADS_BUCKET, { replicas: config.nats.replicas });
    const runs = await new Kvm(deps.nc).create(RUNS_BUCKET, { replicas: config.nats.replicas });
    const agents = await openAgentsBucket(deps.nc, config.nats.replicas);
    const presence = new AgentPresence(agents, config.systemLabel, { trtllmServeBin: config.trtllmServeBin, log: deps.log, ...(config.heartbeatMs ? { heartbeatMs: config.heartbeatMs } : {}) });
    await presence.start();
    const agent = new HostAgent(config, deps, js, consumer, workloads, runs, presence);
    agent.loop = agent.run();
    deps.log.info({ system_label: config.systemLabel, consumer: consumerName, agent_id: presence.agentId }, 'host agent waiting for jobs');
    return agent;
  }

  /** Stop taking jobs. A job in progress is aborted and handed back (nak) to be run again. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.current?.abort.abort(new Error('agent shutting down'));
    await this.loop;
    await this.presence.stop();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let msg: JsMsg | null;
      try {
        msg = await this.consumer.next({ expires: 2000 });
      } catch (err) {
        if (this.stopping) break;
        this.deps.log.warn({ err: String(err) }, 'waiting for jobs failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (!msg || this.stopping) {
        if (msg) msg.nak();
        continue;
      }
      await this.handle(msg);
    }
  }

  // term() without a reason: nats-server 2.9 ignores a +TERM that carries one and redelivers.
  private async handle(msg: JsMsg): Promise<void> {
    const log = this.deps.log;
    let job: Job;
    let runKey: string | undefined;
    try {
      const parsed = JobMessage.safeParse(msg.json());
      if (!parsed.success) {
        log.error({ subject: msg.subject, seq: msg.seq, error: describeZodError(parsed.error) }, 'malformed job message terminated');
        msg.term();
        return;
      }
      // The run's key signs its events and goes nowhere else: not to the runner, not into run_meta.
      ({ run_key: runKey, ...job } = parsed.data);
    } catch (err) {
      log.error({ subject: msg.subject, seq: msg.seq, err: String(err) }, 'job message is not JSON; terminated');
      msg.term();
      return;
    }
    if (job.system_label !== this.config.systemLabel) {
      log.error({ subject: msg.subject, run_id: job.run_id }, `job for system '${job.system_label}' on the '${this.config.systemLabel}' consumer; terminated`);
      msg.term();
      return;
    }

    const start = await startAttempt(this.runs, job, { seq: msg.seq, deliveryCount: msg.info.deliveryCount, agentId: this.presence.agentId }, log);
    if (start.kind === 'drop') {
      msg.term();
      log.info({ run_id: job.run_id, seq: msg.seq }, `job dropped: ${start.reason}`);
      return;
    }
    const attempt = start.attempt;
    const publisher = this.publisherFor(job, runKey);
    if (start.kind === 'cancelled') {
      // Cancelled while queued (or while a killed agent ran it): never start it.
      await this.finishCancelled(publisher, job, attempt, start.status.status === 'running' || attempt > 1);
      msg.term();
      log.info({ run_id: job.run_id, attempt }, 'run was cancelled before it started; job dropped');
      return;
    }
    if (attempt > 1) log.warn({ run_id: job.run_id, attempt }, 'job delivered again: restarting the run from its beginning as a new attempt');
    const abort = new AbortController();
    this.current = { msg, abort };
    const working = setInterval(() => msg.working(), WORKING_INTERVAL_MS);
    let stopWatching: () => void = () => {};
    let telemetry: ReturnType<typeof runTelemetry> | null = null;
    try {
      stopWatching = await this.watchForCancel(job.run_id, abort);
      this.presence.setState({ kind: 'running', run_id: job.run_id, attempt });
      checkEngineSources(job, this.config);
      const workload = await this.loadWorkload(job.workload_id);
      // Durations never use wall clocks; the offset only lines up timelines of different machines.
      const clock = await measureClockOffset(this.deps.nc, 4, 1000);
      // Link and GPU telemetry over the run window, published as `telemetry` events (issue 23).
      telemetry = runTelemetry(async (event) => void (await publisher.publish(event, abort.signal)), this.config.telemetry ?? {}, log, job.engine.kind);
      const result = await runBenchmark({
        job,
        workload,
        attempt,
        log,
        signal: abort.signal,
        heartbeat: () => msg.working(),
        emit: telemetry.emit,
        agent: { ...this.runnerOptions(), runMeta: { clock_offset: clock ?? { absent: 'no clock reply from the aggregator' } } },
      });
      await updateRunStatus(this.runs, job, { status: 'completed', expected_samples: result.samples.length }, log);
      msg.ack();
      this.jobsDone.push(job.run_id);
      log.info({ run_id: job.run_id, attempt, samples: result.samples.length }, 'run completed');
    } catch (err) {
      if (abort.signal.reason instanceof RunCancelledError) {
        // The runner stopped the engine on abort; what it published stays with this attempt.
        await this.finishCancelled(publisher, job, attempt, true);
        msg.term();
        log.info({ run_id: job.run_id, attempt }, 'run cancelled');
      } else if (abort.signal.aborted) {
        // Shutting down: hand the job back so an agent runs it again from the start.
        msg.nak();
        log.warn({ run_id: job.run_id, attempt }, 'run aborted by shutdown; job handed back');
      } else {
        // The runner keeps each error's kind: an engine failure or a refusal (ValidationError) is the run's
        // result, a bus hiccup (BusError) or an unexpected error gets another attempt.
        const final = (err instanceof KvbenchError && !(err instanceof BusError)) || attempt >= JOB_MAX_DELIVER;
        await updateRunStatus(this.runs, job, { status: final ? 'failed' : 'queued', error: String((err as Error).message ?? err) }, log);
        log.error({ run_id: job.run_id, attempt, err: String(err), final }, 'run failed');
        if (final) {
          // The runner reports engine failures itself; this covers failures around it. Same msgID: never twice.
          await publisher
            .publish(runEvent('failed', { run_id: job.run_id, attempt, system_label: job.system_label }, {
              error: String((err as Error).message ?? err),
              log_tail: err instanceof EngineError ? err.logTail : [],
              final: true,
            }))
            .catch((e) => log.error({ err: String(e) }, 'could not publish failed event'));
          msg.term();
        }
        else msg.nak(5000);
      }
    } finally {
      await telemetry?.close();
      stopWatching();
      clearInterval(working);
      this.current = undefined;
      this.presence.setState({ kind: 'idle' });
    }
  }

  /**
   * Aborts the run when its status entry gets a cancel request. A KV watch, so a cancel made
   * while this agent was briefly disconnected still arrives (the watch resumes with the latest value).
   */
  private async watchForCancel(runId: string, abort: AbortController): Promise<() => void> {
    const watcher = await this.runs.watch({ key: runId });
    void (async () => {
      for await (const e of watcher) {
        const status = runStatusFromEntry(e);
        if (cancelRequested(status) && !abort.signal.aborted) {
          this.deps.log.info({ run_id: runId }, 'cancel requested: stopping the run and its engine');
          abort.abort(new RunCancelledError(`run ${runId} cancelled by request`));
        }
      }
    })().catch((err) => this.deps.log.warn({ err: String(err), run_id: runId }, 'cancel watch ended'));
    return () => watcher.stop();
  }

  /** The `cancelled` event (same msgID whoever publishes it, so never twice) and the final status. */
  private async finishCancelled(publisher: EventPublisher, job: Job, attempt: number, wasRunning: boolean): Promise<void> {
    await publisher
      .publish(runEvent('cancelled', { run_id: job.run_id, attempt, system_label: job.system_label }, { was_running: wasRunning, reason: 'cancelled by request' }))
      .catch((e) => this.deps.log.error({ err: String(e), run_id: job.run_id }, 'could not publish cancelled event'));
    await updateRunStatus(this.runs, job, { status: 'cancelled', attempt }, this.deps.log);
  }

  /**
   * The job's events signed with the key its job message carried (issue 25; @kvbench/bus
   * signing.ts), so the aggregator stores them as this run's. A job without a key (services run
   * without EVENT_SIGNING_SECRET) publishes unsigned.
   */
  private publisherFor(job: Job, runKey: string | undefined): EventPublisher {
    if (!runKey) this.deps.log.warn({ run_id: job.run_id }, 'job carries no run key: its events go unsigned (an aggregator with EVENT_SIGNING_SECRET refuses them)');
    return new EventPublisher(this.js, this.deps.log, undefined, (e) => (runKey && e.run_id === job.run_id ? runKey : null));
  }

  private async loadWorkload(id: string) {
    const bytes = await this.workloads.getBlob(id);
    if (!bytes) throw new NotFoundError('workload', id);
    return parseAnyWorkload(JSON.parse(new TextDecoder().decode(bytes)));
  }

  private runnerOptions(): AgentOptions {
    const c = this.config;
    const sim: NonNullable<AgentOptions['sim']> = {};
    if (c.simTimeScale !== undefined) sim.timeScale = c.simTimeScale;
    if (c.simProfile !== undefined) sim.profile = c.simProfile;
    return {
      workDir: c.workDir,
      engineStartupTimeoutMs: c.engineStartupTimeoutMs,
      requestTimeoutMs: c.requestTimeoutMs,
      ...(c.trtllmServeBin ? { trtllmServe: c.trtllmServeBin } : {}),
      sim,
      simulator: { mainPath: SIM_MAIN_PATH, defaultProfileForSystem },
      // Known model shapes turn SGLang's token counters into bytes.
      modelKvBytesPerToken: (m) => kvBytesPerToken(resolveModelShape(m)),
      // What this machine's offload path delivered just before the run, kept in run_meta.link_check.
      ...(c.linkCheck ? { linkCheck: async () => ({ ...(await linkCheck()) }) } : {}),
    };
  }

}

/**
 * The agent's own check of what a job points it at, whatever workload-api let through (issue 25):
 * an engine URL only from this agent's ENGINE_URLS, a simulator profile only by a shipped name
 * (the operator's SIM_PROFILE overrides the job's anyway). Nothing is opened or connected before.
 */
export function checkEngineSources(job: Job, config: Pick<AgentConfig, 'engineUrls' | 'simProfile'>): void {
  if (job.engine.url !== undefined) {
    const refusal = engineUrlRefusal(job.engine.url, config.engineUrls);
    if (refusal) throw new ValidationError(`engine.url ${job.engine.url}: ${refusal}`, 'engine.url');
  }
  const profile = job.engine.options['profile'];
  if (profile !== undefined && config.simProfile === undefined) {
    const refusal = profileRefusal(profile, listProfiles());
    if (refusal) throw new ValidationError(`engine.options.profile: ${refusal}`, 'engine.options.profile');
  }
}
