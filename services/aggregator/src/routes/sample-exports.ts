import { Readable } from 'node:stream';
import type { Database } from 'better-sqlite3';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { NotFoundError, type Sample } from '@kvbench/common';
import { ErrorBody, RunIdParams } from '../api-schemas.js';
import { iterateSampleJson } from '../store/results.js';
import { getRun } from '../store/runs.js';
import { SAMPLE_CSV_COLUMNS, sampleCsvRow } from './sample-csv.js';

/** Rows per written chunk: big enough to keep write calls few, small enough to stay a few hundred KB. */
const ROWS_PER_CHUNK = 500;

/** The attempt to export: the one in results once completed, else the current one (a running run exports what it has). */
function exportAttempt(db: Database, runId: string): number | null {
  const run = getRun(db, runId);
  if (!run) throw new NotFoundError('run', runId);
  return run.result_attempt ?? run.current_attempt;
}

/** Lines of text from the stored samples, grouped into chunks as they are read (never the whole export at once). */
function* chunks(lines: Iterable<string>, header?: string): Generator<string> {
  let buf: string[] = header === undefined ? [] : [header];
  for (const line of lines) {
    buf.push(line);
    if (buf.length >= ROWS_PER_CHUNK) {
      yield buf.join('\n') + '\n';
      buf = [];
    }
  }
  if (buf.length) yield buf.join('\n') + '\n';
}

function* stored(db: Database, runId: string, attempt: number | null): Generator<string> {
  if (attempt !== null) yield* iterateSampleJson(db, runId, attempt);
}

function* csvLines(json: Iterable<string>): Generator<string> {
  for (const body of json) yield sampleCsvRow(JSON.parse(body) as Sample);
}

const sampleExportRoutes: FastifyPluginAsyncZod = async (app) => {
  const schema = (format: string) => ({
    tags: ['results'],
    summary: `A run's samples as ${format}, streamed in workload order`,
    params: RunIdParams,
    response: { 400: ErrorBody, 404: ErrorBody },
  });

  app.get('/runs/:id/samples.jsonl', { schema: schema('JSON lines') }, async (req, reply) => {
    const runId = req.params.id;
    const attempt = exportAttempt(app.db, runId);
    reply.type('application/x-ndjson; charset=utf-8').header('content-disposition', `attachment; filename="${runId}-samples.jsonl"`);
    // Stored sample JSON is copied as is: one line per sample, no re-serialising.
    return reply.send(Readable.from(chunks(stored(app.db, runId, attempt))) as never);
  });

  app.get('/runs/:id/samples.csv', { schema: schema('CSV') }, async (req, reply) => {
    const runId = req.params.id;
    const attempt = exportAttempt(app.db, runId);
    reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${runId}-samples.csv"`);
    return reply.send(Readable.from(chunks(csvLines(stored(app.db, runId, attempt)), SAMPLE_CSV_COLUMNS.join(','))) as never);
  });
};
export default sampleExportRoutes;
