import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { generateWorkload, toSeedFormat } from '@kvbench/workload';
import type { LightMyRequestResponse } from 'fastify';
import { apiForSuite, SMALL_PARAMS } from './helpers.js';

/**
 * Property: whatever JSON arrives, the answer is 2xx (valid), 404 (a well-formed reference to
 * something unknown) or 400/413 naming the offending field, never a 5xx.
 */
function assertWellAnswered(res: LightMyRequestResponse, body: unknown): void {
  const ctx = `${res.statusCode} ${res.body.slice(0, 300)} for ${JSON.stringify(body)?.slice(0, 300)}`;
  assert.ok(res.statusCode < 500, ctx);
  if (res.statusCode < 300) return;
  const err = res.json();
  assert.equal(typeof err.error, 'string', ctx);
  assert.equal(typeof err.message, 'string', ctx);
  if (res.statusCode === 404) return;
  assert.ok([400, 413].includes(res.statusCode), ctx);
  assert.equal(typeof err.field, 'string', ctx);
  assert.ok(err.field.length > 0, ctx);
}

/** Replace the value at one random path of `base` (objects and arrays) by `value`. */
function mutate(base: unknown, pathPicks: number[], value: unknown): unknown {
  if (pathPicks.length === 0 || base === null || typeof base !== 'object') return value;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(base) ? [...base] : { ...(base as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (keys.length === 0) return value;
  const key = keys[pathPicks[0]! % keys.length]!;
  (copy as Record<string, unknown>)[key] = mutate((copy as Record<string, unknown>)[key], pathPicks.slice(1), value);
  return copy;
}

const anyJson = fc.jsonValue({ maxDepth: 4 });
const pathPicks = fc.array(fc.nat(), { maxLength: 5 });
const NUM_RUNS = 150;

describe('fuzz: random bodies never cause a 5xx', () => {
  let workloadId: string;
  // Small limits keep generated workloads small whatever the fuzzer asks for.
  const limits = { MAX_CONTEXT_TOKENS: '512', MAX_POOL_SIZE: '8', MAX_BATCH_SIZE: '8', MAX_BATCHES: '12', MAX_WORKLOAD_BYTES: '300000' };
  const validParams = { ...SMALL_PARAMS };
  const nativeDoc = generateWorkload(SMALL_PARAMS);
  const seedDoc = toSeedFormat(nativeDoc);

  const api = apiForSuite({ ...limits, LOG_LEVEL: 'warn' });
  before(async () => {
    workloadId = (await api.app.inject({ method: 'POST', url: '/workloads', payload: { params: validParams } })).json().id;
  });

  const send = (url: string, body: unknown) =>
    api.app.inject({ method: 'POST', url, payload: JSON.stringify(body) ?? 'null', headers: { 'content-type': 'application/json' } });

  it('POST /workloads with arbitrary JSON', async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, async (body) => assertWellAnswered(await send('/workloads', body), body)),
      { numRuns: NUM_RUNS },
    );
  });

  it('POST /workloads with mutated valid params and documents', async () => {
    const base = fc.constantFrom<unknown>({ params: validParams }, { document: nativeDoc }, { document: seedDoc }, { document: { batches: seedDoc } });
    await fc.assert(
      fc.asyncProperty(base, pathPicks, anyJson, async (b, picks, value) => {
        const body = mutate(b, picks, value);
        assertWellAnswered(await send('/workloads', body), body);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('POST /workloads with random generator parameters', async () => {
    const small = fc.integer({ min: -2, max: 600 });
    const params = fc.record(
      {
        contexts: fc.array(small, { maxLength: 4 }),
        batches_per_context: fc.integer({ min: -1, max: 8 }),
        batch_sizes: fc.array(fc.integer({ min: -1, max: 10 }), { maxLength: 3 }),
        prompt_pool_size: fc.integer({ min: -1, max: 10 }),
        reuse_start_batch: fc.integer({ min: -1, max: 6 }),
        delay_ms: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()),
        seed: fc.integer(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(params, async (p) => {
        const body = { params: p };
        assertWellAnswered(await send('/workloads', body), body);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('POST /runs with arbitrary JSON and with mutated valid bodies', async () => {
    await fc.assert(
      fc.asyncProperty(anyJson, async (body) => assertWellAnswered(await send('/runs', body), body)),
      { numRuns: NUM_RUNS },
    );
    const valid = {
      workload_id: workloadId,
      system_label: 'pcie',
      model: 'm',
      engine: { kind: 'sim', options: { profile: 'h100' } },
      config_module: 'config_pcie',
      overrides: { gpu_kv_max_tokens: 1024, host_cache_gb: 8, enable_reuse: true, tokens_per_block: 32 },
      max_batch_size: 4,
      max_seq_len: 2048,
      output_tokens: 4,
      temperature: 0,
      top_p: 1,
      notes: '',
    };
    await fc.assert(
      fc.asyncProperty(pathPicks, anyJson, async (picks, value) => {
        const body = mutate(valid, picks, value);
        assertWellAnswered(await send('/runs', body), body);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('GET with arbitrary ids and query strings', async () => {
    const query = fc.dictionary(fc.constantFrom('system_label', 'status', 'limit', 'full', 'x'), fc.string({ maxLength: 12 }), { maxKeys: 3 });
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), query, async (id, q) => {
        const qs = new URLSearchParams(q).toString();
        for (const url of [`/workloads/${encodeURIComponent(id)}?${qs}`, `/runs/${encodeURIComponent(id)}`, `/runs?${qs}`]) {
          const res = await api.app.inject({ method: 'GET', url });
          assertWellAnswered(res, url);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('random bytes as a JSON body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (raw) => {
        for (const url of ['/runs', '/workloads']) {
          const res = await api.app.inject({ method: 'POST', url, payload: raw, headers: { 'content-type': 'application/json' } });
          assertWellAnswered(res, raw);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
