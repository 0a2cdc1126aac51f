import { KvbenchError, NotFoundError, ResultsDocument, parseOrThrow, type RunResult, type Sample } from '@kvbench/common';
import { Progress } from './progress.js';
import { compareRuns, renderRunSummaryTable, runIdOf } from '@kvbench/report';

export interface WatchOptions {
  /** Where the progress bar goes (default stderr). */
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Where the final summary table goes (default stdout); null: do not print it. */
  summaryOut?: NodeJS.WritableStream | null;
  /** Shown before the run id on the progress line (e.g. the system label). */
  label?: string;
  /** Bearer token for an aggregator with READ_TOKEN set. */
  token?: string;
  signal?: AbortSignal;
  /** Reconnections tried after the stream drops before the run ended (each resumes with Last-Event-ID). */
  maxReconnects?: number;
}

export interface WatchResult {
  status: 'completed' | 'failed' | 'cancelled';
  /** The completed run as stored (from /results), or null when it failed. */
  run: RunResult | null;
  error?: string;
  /** Samples seen on the stream for the final attempt. */
  samples: number;
}

interface SseMessage {
  event: string;
  id?: string;
  data: string;
}

/**
 * Follows a run on the aggregator's /runs/:id/events stream: a progress bar
 * (requests done of total, running TTFT p50, ETA) on `out`, then the run's
 * summary table once it completed. Resumes with Last-Event-ID when the
 * connection drops. Used by `kvbench watch`, `kvbench bench --api` and the demo.
 */
export async function watchRun(aggregatorUrl: string, runId: string, opts: WatchOptions = {}): Promise<WatchResult> {
  const base = aggregatorUrl.replace(/\/+$/, '');
  const progress = new Progress(opts.out ?? process.stderr, opts.label ? `${opts.label} ${runId}` : runId);
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const seen = new Map<string, Sample>();
  let attempt: number | null = null;
  let lastId: string | undefined;
  let reconnects = 0;
  let outcome: { status: WatchResult['status']; error?: string } | null = null;

  while (!outcome) {
    let res: Response;
    try {
      res = await fetch(`${base}/runs/${encodeURIComponent(runId)}/events`, {
        headers: lastId ? { ...headers, 'last-event-id': lastId } : headers,
        signal: opts.signal ?? null,
      });
    } catch (err) {
      if (opts.signal?.aborted || ++reconnects > (opts.maxReconnects ?? 5)) throw new KvbenchError(`cannot reach ${base}`, { cause: err });
      await delay(Math.min(500 * 2 ** reconnects, 5000));
      continue;
    }
    if (res.status === 404) throw new NotFoundError('run', runId);
    if (res.status !== 200 || !res.body) throw new KvbenchError(`GET ${base}/runs/${runId}/events → ${res.status}: ${(await res.text()).slice(0, 300)}`);
    try {
      for await (const msg of sseMessages(res.body)) {
        if (msg.id) lastId = msg.id;
        const data = JSON.parse(msg.data) as Record<string, any>;
        switch (msg.event) {
          case 'state':
            if (typeof data.expected_samples === 'number') progress.total = data.expected_samples;
            // What is already stored arrives as a burst of replay; the ETA's pace is measured after it.
            if (typeof data.received_samples === 'number') progress.replayed = data.received_samples;
            attempt ??= data.current_attempt ?? null;
            break;
          case 'started':
            // A new attempt starts over: its samples replace the abandoned one's.
            if (attempt !== null && data.attempt > attempt) seen.clear(), progress.reset();
            attempt = data.attempt;
            progress.total = data.expected_samples;
            break;
          case 'sample':
            if (attempt !== null && data.attempt < attempt) break;
            if (attempt !== null && data.attempt > attempt) seen.clear(), progress.reset();
            attempt = data.attempt;
            if (!seen.has(data.sample.request_id)) {
              seen.set(data.sample.request_id, data.sample);
              progress.add(data.sample);
            }
            break;
          case 'completed':
            outcome = { status: 'completed' };
            break;
          case 'failed':
            if (data.final !== false) outcome = { status: 'failed', error: String(data.error ?? 'unknown error') };
            else progress.note(`attempt ${data.attempt} failed (${data.error}); the job will be retried`);
            break;
          case 'cancelled':
            outcome = { status: 'cancelled', error: String(data.reason ?? 'cancelled') };
            break;
        }
        if (outcome) break;
      }
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      // A dropped connection: resume below.
    }
    if (!outcome) {
      if (++reconnects > (opts.maxReconnects ?? 5)) throw new KvbenchError(`event stream of run ${runId} ended before the run did`);
      await delay(Math.min(250 * 2 ** reconnects, 5000));
    }
  }
  progress.finish(outcome.status === 'completed' ? 'completed' : `${outcome.status}: ${outcome.error}`);
  if (outcome.status !== 'completed') return { status: outcome.status, run: null, error: outcome.error!, samples: seen.size };

  const run = await fetchRunResult(base, runId, headers.authorization);
  if (opts.summaryOut !== null) (opts.summaryOut ?? process.stdout).write(renderRunSummaryTable(compareRuns([run])) + '\n');
  return { status: 'completed', run, samples: seen.size };
}

async function fetchRunResult(base: string, runId: string, authorization?: string): Promise<RunResult> {
  const res = await fetch(`${base}/results?run_id=${encodeURIComponent(runId)}`, { headers: authorization ? { authorization } : {} });
  if (res.status !== 200) throw new KvbenchError(`GET ${base}/results?run_id=${runId} → ${res.status}`);
  const doc = parseOrThrow(ResultsDocument, await res.json(), 'results document');
  const run = Object.values(doc.runs).flat().find((r) => runIdOf(r) === runId);
  if (!run) throw new NotFoundError('completed run', runId);
  return run;
}

/** Server-Sent Events from a fetch body (event, id, data; comments skipped). */
export async function* sseMessages(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
    let sep: number;
    while ((sep = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, sep);
      buf = buf.slice(sep + 2);
      const msg: SseMessage = { event: 'message', data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (field === 'event') msg.event = value;
        else if (field === 'id') msg.id = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length === 0) continue;
      msg.data = data.join('\n');
      yield msg;
    }
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
