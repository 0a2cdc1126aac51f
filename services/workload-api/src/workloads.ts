import { NotFoundError, ValidationError, type AnyWorkload, type ScenarioParams, type WorkloadParams } from '@kvbench/common';
import { generateDocqa, generateMultiturn, generateWorkload, parseAnyWorkload, serializeWorkloadParts, summarizeWorkload } from '@kvbench/workload';
import type { ObjectStore } from '@nats-io/obj';
import type { Limits } from './config.js';
import { checkDocumentLimits, checkParamsLimits, checkScenarioParamsLimits, checkWorkloadBytes } from './limits.js';
import { WorkloadSummaryBody } from './schemas.js';
import { busCall } from './bus-call.js';

/**
 * Workloads live in the WORKLOADS_BUCKET object store under their content id, as the serialized
 * native document, so an agent on another machine fetches one with getBlob(id). The summary is
 * kept in the object's metadata so GET /workloads/:id need not read the prompts back.
 */
const SUMMARY_KEY = 'kvbench-summary';

export type CreateWorkload =
  | { params: WorkloadParams; scenario?: undefined; document?: undefined }
  | { params?: undefined; scenario: ScenarioParams; document?: undefined }
  | { params?: undefined; scenario?: undefined; document: unknown };

export async function createWorkload(store: ObjectStore, body: CreateWorkload, limits: Limits): Promise<WorkloadSummaryBody> {
  let doc: AnyWorkload;
  let field: string;
  if (body.params !== undefined) {
    checkParamsLimits(body.params, limits);
    doc = withFieldPrefix('params', () => generateWorkload(body.params!));
    field = 'params';
  } else if (body.scenario !== undefined) {
    const { kind: _kind, ...p } = body.scenario;
    checkScenarioParamsLimits(body.scenario, limits);
    doc = withFieldPrefix('scenario', () => (body.scenario!.kind === 'multiturn' ? generateMultiturn(p as never) : generateDocqa(p as never)));
    field = 'scenario';
  } else {
    doc = withFieldPrefix('document', () => parseAnyWorkload(body.document));
    checkDocumentLimits(doc, limits);
    field = 'document';
  }
  return storeWorkload(store, doc, limits, field);
}

/** The workload library names fields relative to what it was given; the client sent them under `prefix`. */
function withFieldPrefix<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ValidationError) {
      const field = err.field === '(root)' ? prefix : `${prefix}.${err.field}`;
      throw new ValidationError(err.message, field, { cause: err });
    }
    throw err;
  }
}

async function storeWorkload(store: ObjectStore, doc: AnyWorkload, limits: Limits, field: string): Promise<WorkloadSummaryBody> {
  // The canonical text in pieces: hashed and uploaded piece by piece, never one giant string.
  const parts = serializeWorkloadParts(doc);
  const summary = WorkloadSummaryBody.parse(summarizeWorkload(doc, parts));
  checkWorkloadBytes(summary.bytes, limits, field);
  // Same content, same id: an existing object already holds exactly these bytes.
  const existing = await busCall('workload store', () => store.info(summary.id));
  if (!existing || existing.deleted) {
    const meta = { name: summary.id, metadata: { [SUMMARY_KEY]: JSON.stringify(summary) } };
    await busCall('workload store', () => store.put(meta, partsStream(parts)));
  }
  return summary;
}

function partsStream(parts: readonly string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < parts.length) controller.enqueue(encoder.encode(parts[i++]));
      else controller.close();
    },
  });
}

export async function getWorkloadSummary(store: ObjectStore, id: string): Promise<WorkloadSummaryBody> {
  const info = await busCall('workload store', () => store.info(id));
  if (!info || info.deleted) throw new NotFoundError('workload', id);
  const stored = info.metadata?.[SUMMARY_KEY];
  const parsed = stored ? WorkloadSummaryBody.safeParse(JSON.parse(stored)) : undefined;
  if (parsed?.success) return parsed.data;
  // Stored by another tool without our metadata: summarize the document itself.
  const doc = parseAnyWorkload(JSON.parse(await getWorkloadText(store, id)));
  return WorkloadSummaryBody.parse({ ...summarizeWorkload(doc), id });
}

/** The stored native document, as its serialized text (sent as-is, never re-serialized). */
export async function getWorkloadText(store: ObjectStore, id: string): Promise<string> {
  const data = await busCall('workload store', () => store.getBlob(id));
  if (data === null) throw new NotFoundError('workload', id);
  return new TextDecoder().decode(data);
}

export async function workloadExists(store: ObjectStore, id: string): Promise<boolean> {
  const info = await busCall('workload store', () => store.info(id));
  return !!info && !info.deleted;
}

/** The stored workload, parsed (POST /runs checks a run against it before queuing). */
export async function loadWorkload(store: ObjectStore, id: string): Promise<AnyWorkload> {
  return parseAnyWorkload(JSON.parse(await getWorkloadText(store, id)));
}
