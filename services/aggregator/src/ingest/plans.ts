import { AnyWorkload, RunStatus, type Logger } from '@kvbench/common';
import type { KV } from '@nats-io/kv';
import type { ObjectStore } from '@nats-io/obj';
import type { Database } from 'better-sqlite3';

/**
 * What a run may be sent samples for: the request ids of its workload (issue 25: a sample is
 * accepted only for a request of the run's workload). `unknown` with `retry` when the answer
 * could not be read now (bus trouble): the events are delivered again later.
 */
export type RunPlan =
  | { kind: 'known'; workloadId: string; requestIds: ReadonlySet<string> }
  | { kind: 'unknown'; reason: string; retry: boolean };

/** Where the request ids come from; ingest asks once per run and caches the answer. */
export interface PlanSource {
  /** `acceptedWorkloadId`: from an accepted event not stored yet (same batch). */
  planOf(runId: string, acceptedWorkloadId?: string): Promise<RunPlan>;
}

/** Request-id sets of this many workloads are kept in memory (a workload's ids are read once). */
const CACHED_WORKLOADS = 32;

/**
 * How long one bus read of a plan may take. Batches are ingested one after another, so a read that
 * never answers would stop all ingest (and hang the app's close, which commits what it holds): an
 * object-store get over an ordered consumer can stall (nats-io/nats.js PR #256 hardened it; a stall
 * still happened here under load, the aggregator's faults test hanging in app.close). Past this
 * the answer is "unknown, retry": the samples are nak'ed and delivered again.
 */
export const PLAN_READ_TIMEOUT_MS = 15_000;

class PlanReadTimeout extends Error {}

function bounded<T>(read: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PlanReadTimeout(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([read, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Plans from the bus itself: the run's workload id from the aggregator's own runs table (the
 * accepted event) or else the runs bucket (workload-api writes it before publishing anything),
 * and the request ids from the workload's native document in the workloads object store.
 */
export class BusPlanSource implements PlanSource {
  private readonly workloads = new Map<string, { digest: string; ids: ReadonlySet<string> }>();
  private readonly workloadOfRun: (runId: string) => string | undefined;

  constructor(
    db: Database,
    private readonly runs: KV,
    private readonly store: ObjectStore,
    private readonly log: Logger,
    private readonly readTimeoutMs = PLAN_READ_TIMEOUT_MS,
  ) {
    const stmt = db.prepare('SELECT workload_id FROM runs WHERE run_id = ?');
    this.workloadOfRun = (runId) => (stmt.get(runId) as { workload_id: string | null } | undefined)?.workload_id ?? undefined;
  }

  async planOf(runId: string, acceptedWorkloadId?: string): Promise<RunPlan> {
    // The runs bucket (written by workload-api before anything is published) wins over an accepted
    // event in the same batch, which is only the fallback for a status entry already gone.
    let workloadId = this.workloadOfRun(runId);
    if (!workloadId) {
      let entry;
      try {
        entry = await bounded(this.runs.get(runId), 'runs bucket', this.readTimeoutMs);
      } catch (err) {
        if (!acceptedWorkloadId) return { kind: 'unknown', reason: `runs bucket unreadable: ${(err as Error).message}`, retry: true };
      }
      const parsed = entry && entry.operation === 'PUT' && entry.length > 0 ? RunStatus.safeParse(safeJson(entry)) : undefined;
      workloadId = parsed?.success ? parsed.data.workload_id : acceptedWorkloadId;
      if (!workloadId) return { kind: 'unknown', reason: `no run ${runId} was submitted (no status in the runs bucket)`, retry: false };
    }
    let info;
    try {
      info = await bounded(this.store.info(workloadId), 'workload store info', this.readTimeoutMs);
    } catch (err) {
      return { kind: 'unknown', reason: `workload store unreadable: ${(err as Error).message}`, retry: true };
    }
    if (!info || info.deleted) return { kind: 'unknown', reason: `workload ${workloadId} of run ${runId} is not in the workload store`, retry: false };
    const cached = this.workloads.get(workloadId);
    if (cached && cached.digest === info.digest) return { kind: 'known', workloadId, requestIds: cached.ids };
    let ids: ReadonlySet<string>;
    try {
      const bytes = await bounded(this.store.getBlob(workloadId), 'workload store get', this.readTimeoutMs);
      if (!bytes) return { kind: 'unknown', reason: `workload ${workloadId} vanished from the store`, retry: false };
      const doc = AnyWorkload.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
      if (!doc.success) return { kind: 'unknown', reason: `workload ${workloadId} in the store is not a native workload document`, retry: false };
      ids = new Set(doc.data.version === 1 ? doc.data.batches.flatMap((b) => b.requests.map((r) => r.request_id)) : doc.data.requests.map((r) => r.request_id));
    } catch (err) {
      return { kind: 'unknown', reason: `workload ${workloadId} unreadable: ${(err as Error).message}`, retry: true };
    }
    if (this.workloads.size >= CACHED_WORKLOADS) this.workloads.delete(this.workloads.keys().next().value!);
    this.workloads.set(workloadId, { digest: info.digest, ids });
    this.log.debug?.({ workload_id: workloadId, requests: ids.size }, 'workload plan loaded');
    return { kind: 'known', workloadId, requestIds: ids };
  }
}

function safeJson(entry: { json<T>(): T }): unknown {
  try {
    return entry.json();
  } catch {
    return undefined;
  }
}
