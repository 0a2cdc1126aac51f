import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { clientGone, knownRunOrWait } from './known-run.js';
import { ErrorBody, EventsQuery, RunIdParams } from '../api-schemas.js';
import type { StoreNotice } from '../store/notices.js';
import { getRun } from '../store/runs.js';
import { lifecycleEvent, samplesAfter } from '../store/live.js';
import { eventWithLogTail } from './log-tails.js';
import { SseWriter } from './sse.js';

const HEARTBEAT_MS = 15_000;

/**
 * GET /runs/:id/events — Server-Sent Events of a run's current attempt:
 * `state` (the run summary), then the stored `started` event and samples
 * (replay, so a late subscriber misses nothing), then live `sample`,
 * `accepted`, `started`, `engine_stats` events as they commit. A new attempt
 * announces itself with `started` carrying its attempt number; clients drop
 * earlier samples then. Ends with `completed` (every sample stored, with the
 * aggregate), a final `failed`, or `cancelled`. Sample events carry their id; reconnecting
 * with Last-Event-ID (or ?last_event_id=) resumes after it.
 */
const runEventsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/runs/:id/events',
    {
      schema: {
        tags: ['runs'],
        summary: 'Live samples and lifecycle events of a run (text/event-stream)',
        params: RunIdParams,
        querystring: EventsQuery,
        response: { 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      const runId = req.params.id;
      // A run accepted a moment ago may not be stored yet: wait for it (bounded) instead of a 404.
      const run = await knownRunOrWait(app, runId, clientGone(reply.raw));
      const header = req.headers['last-event-id'];
      const fromHeader = typeof header === 'string' && /^\d{1,15}$/.test(header.trim()) ? Number(header.trim()) : undefined;
      let lastId = req.query.last_event_id ?? fromHeader ?? 0;

      // Subscribe before reading what is stored: a commit between the two is then buffered, not lost.
      const buffered: StoreNotice[] = [];
      let live: ((n: StoreNotice) => void) | null = null;
      const unsubscribe = app.notices.subscribe(runId, (n) => (live ? live(n) : buffered.push(n)));

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const sse = new SseWriter(raw);
      const heartbeat = setInterval(() => sse.comment('keep-alive'), HEARTBEAT_MS);
      const finish = () => {
        clearInterval(heartbeat);
        unsubscribe();
        sse.end();
      };
      raw.on('close', finish);

      let attempt = run.current_attempt ?? 1;
      let done = false;
      await sse.send('state', run);

      // Replay: the current attempt's start, its stored samples, and its end if already reached.
      const started = lifecycleEvent(app.db, runId, attempt, 'started');
      if (started) await sse.send('started', started);
      for (;;) {
        const page = samplesAfter(app.db, runId, attempt, lastId);
        for (const s of page) {
          await sse.send('sample', { attempt, sample: s.sample }, s.id);
          lastId = s.id;
        }
        if (page.length === 0 || sse.isClosed) break;
      }
      const now = getRun(app.db, runId);
      const current = now?.attempts.find((a) => a.attempt === attempt);
      if (now?.status === 'completed' && now.result_attempt === attempt) {
        await sse.send('completed', { attempt, aggregate: now.aggregate, sample_count: current?.sample_count ?? null });
        done = true;
      } else if (now?.status === 'failed' && current?.status === 'failed') {
        await sse.send('failed', eventWithLogTail(lifecycleEvent(app.db, runId, attempt, 'failed'), app.logTailsShown));
        done = true;
      } else if (now?.status === 'cancelled') {
        const cancelledIn = now.attempts.find((a) => a.status === 'cancelled')?.attempt ?? attempt;
        await sse.send('cancelled', lifecycleEvent(app.db, runId, cancelledIn, 'cancelled'));
        done = true;
      }
      if (done || sse.isClosed) return finish();

      // Live: forward what commits from now on, in commit order.
      const queue: StoreNotice[] = buffered.splice(0);
      let sending = false;
      const pump = async () => {
        if (sending) return;
        sending = true;
        while (queue.length > 0 && !sse.isClosed && !done) {
          const n = queue.shift()!;
          if (n.attempt < attempt) continue; // late redelivery of an abandoned attempt
          if (n.attempt > attempt) attempt = n.attempt; // a new attempt started over
          if (n.kind === 'sample') {
            if (n.id <= lastId && n.attempt === attempt) continue; // already replayed
            await sse.send('sample', { attempt: n.attempt, sample: n.sample }, n.id);
            lastId = Math.max(lastId, n.id);
          } else if (n.kind === 'complete') {
            await sse.send('completed', { attempt: n.attempt, aggregate: n.aggregate, sample_count: n.sample_count });
            done = true;
          } else if (n.event.type === 'failed') {
            await sse.send('failed', eventWithLogTail(n.event, app.logTailsShown));
            if (n.event.final) done = true;
          } else if (n.event.type === 'cancelled') {
            await sse.send('cancelled', n.event);
            done = true;
          } else if (n.event.type !== 'completed') {
            // A completed event is announced as `completed` only once every sample is stored (kind 'complete').
            await sse.send(n.event.type, n.event);
          }
        }
        sending = false;
        if (done) finish();
      };
      live = (n) => {
        queue.push(n);
        void pump();
      };
      await pump();
    },
  );
};
export default runEventsRoutes;
