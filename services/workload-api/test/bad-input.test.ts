import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateWorkload } from '@kvbench/workload';
import { apiForSuite, SMALL_PARAMS } from './helpers.js';
import { checkParamsLimits } from '../src/limits.js';
import { SizeLimitError } from '../src/http-errors.js';

describe('bad input', () => {
  const api = apiForSuite();
  let workloadId: string;
  before(async () => {
    workloadId = (await api.app.inject({ method: 'POST', url: '/workloads', payload: { params: SMALL_PARAMS } })).json().id;
  });

  const post = (url: string, payload: unknown) => api.app.inject({ method: 'POST', url, payload: payload as object });

  const workloadCases: Array<[string, unknown, string]> = [
    ['neither params nor document', {}, 'params'],
    ['both params and document', { params: SMALL_PARAMS, document: [] }, 'params'],
    ['unknown top-level key', { params: SMALL_PARAMS, paramz: 1 }, 'paramz'],
    ['contexts missing', { params: { batch_sizes: [1] } }, 'params.contexts'],
    ['negative context', { params: { ...SMALL_PARAMS, contexts: [64, -1] } }, 'params.contexts.1'],
    ['fractional batch size', { params: { ...SMALL_PARAMS, batch_sizes: [1.5] } }, 'params.batch_sizes.0'],
    ['seed as a string', { params: { ...SMALL_PARAMS, seed: '42' } }, 'params.seed'],
    ['unknown generator flag', { params: { ...SMALL_PARAMS, reuse_ratio: 0.5 } }, 'params.reuse_ratio'],
    ['context listed twice', { params: { ...SMALL_PARAMS, contexts: [64, 64] } }, 'params.contexts.1'],
    ['native document missing prompts', { document: { schema: 'kvbench.workload', version: 1, params: null, batches: [] } }, 'document.prompts'],
    ['seed batch without prompts', { document: [{ batch_prompts: [], context_tokens: 8 }] }, 'document.0.batch_prompts'],
    ['seed document that is a string', { document: 'workload.json' }, 'document'],
  ];
  for (const [name, body, field] of workloadCases) {
    it(`POST /workloads: ${name} → 400 naming ${field}`, async () => {
      const res = await post('/workloads', body);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().error, 'VALIDATION_ERROR');
      assert.equal(res.json().field, field, res.body);
    });
  }

  it('POST /workloads: a native document whose request names an unknown prompt → 400 naming it', async () => {
    const doc = generateWorkload(SMALL_PARAMS);
    doc.batches[1]!.requests[0]!.prompt_id = 'no-such-prompt';
    const res = await post('/workloads', { document: doc });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().field, 'document.batches.1.requests.0.prompt_id');
  });

  const run = { workload_id: 'wl-0', system_label: 'pcie', model: 'm' };
  const runCases: Array<[string, unknown, string]> = [
    ['empty body', {}, 'workload_id'],
    ['system label with a subject wildcard', { ...run, system_label: 'pcie.>' }, 'system_label'],
    ['upper-case system label', { ...run, system_label: 'PCIE' }, 'system_label'],
    ['empty model', { ...run, model: '' }, 'model'],
    ['unknown engine kind', { ...run, engine: { kind: 'vllm2' } }, 'engine.kind'],
    ['engine url not a URL', { ...run, engine: { url: 'not a url' } }, 'engine.url'],
    ['unknown override (a typo)', { ...run, overrides: { gpu_kv_max_token: 1 } }, 'overrides.gpu_kv_max_token'],
    ['negative host cache', { ...run, overrides: { host_cache_gb: -1 } }, 'overrides.host_cache_gb'],
    ['zero max_batch_size', { ...run, max_batch_size: 0 }, 'max_batch_size'],
    ['max_seq_len as a string', { ...run, max_seq_len: '131072' }, 'max_seq_len'],
    ['top_p of 0', { ...run, top_p: 0 }, 'top_p'],
    ['top_p above 1', { ...run, top_p: 1.5 }, 'top_p'],
    ['negative temperature', { ...run, temperature: -0.1 }, 'temperature'],
    ['unknown key', { ...run, pcie_host_cache_gb: 8 }, 'pcie_host_cache_gb'],
    ['a run id from the client', { ...run, run_id: 'mine' }, 'run_id'],
  ];
  for (const [name, body, field] of runCases) {
    it(`POST /runs: ${name} → 400 naming ${field}`, async () => {
      const res = await post('/runs', body);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().field, field, res.body);
    });
  }

  it('malformed JSON, a non-object body and a wrong query are 400 too', async () => {
    const bad = await api.app.inject({ method: 'POST', url: '/runs', payload: '{"workload_id":', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().field, '(body)');
    const array = await post('/runs', [run]);
    assert.equal(array.statusCode, 400);
    assert.equal(array.json().field, '(root)');
    const query = await api.app.inject({ method: 'GET', url: '/runs?status=lost' });
    assert.equal(query.statusCode, 400);
    assert.equal(query.json().field, 'status');
    const limit = await api.app.inject({ method: 'GET', url: '/runs?limit=0' });
    assert.equal(limit.statusCode, 400);
    assert.equal(limit.json().field, 'limit');
  });

  it('a valid body for an unknown route is 404 with the error body', async () => {
    const res = await post('/workload', { params: SMALL_PARAMS });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error, 'NOT_FOUND');
  });

  it('the run still goes through after all that', async () => {
    const res = await post('/runs', { ...run, workload_id: workloadId });
    assert.equal(res.statusCode, 202, res.body);
  });
});

describe('limits', () => {
  const api = apiForSuite({
    MAX_CONTEXT_TOKENS: '256',
    MAX_POOL_SIZE: '4',
    MAX_BATCH_SIZE: '8',
    MAX_BATCHES: '6',
    MAX_BODY_BYTES: '200000',
    MAX_WORKLOAD_BYTES: '8000',
  });
  const post = (url: string, payload: unknown) => api.app.inject({ method: 'POST', url, payload: payload as object });

  const cases: Array<[string, object, number, string, number]> = [
    ['context past MAX_CONTEXT_TOKENS', { ...SMALL_PARAMS, contexts: [64, 512] }, 400, 'params.contexts.1', 256],
    ['pool past MAX_POOL_SIZE', { ...SMALL_PARAMS, prompt_pool_size: 5 }, 400, 'params.prompt_pool_size', 4],
    ['batch size past MAX_BATCH_SIZE', { ...SMALL_PARAMS, batch_sizes: [2, 9] }, 400, 'params.batch_sizes.1', 8],
    ['batches past MAX_BATCHES', { ...SMALL_PARAMS, batches_per_context: 4 }, 400, 'params.batches_per_context', 6],
  ];
  for (const [name, params, status, field, limit] of cases) {
    it(`${name} → ${status} naming ${field}`, async () => {
      const res = await post('/workloads', { params });
      assert.equal(res.statusCode, status, res.body);
      assert.equal(res.json().error, 'LIMIT_EXCEEDED');
      assert.equal(res.json().field, field);
      assert.equal(res.json().limit, limit);
    });
  }

  it('parameters whose workload cannot fit MAX_WORKLOAD_BYTES are refused before generating', () => {
    const limits = { maxSeqLen: 4096, maxContextTokens: 1000, maxPoolSize: 10, maxBatchSize: 10, maxBatches: 10, maxBodyBytes: 1e6, maxWorkloadBytes: 5000 };
    // 2 contexts of 1000 tokens, at least 3 distinct prompts each (3 batches of ≥ 1): ≥ 6000 bytes.
    const params = { contexts: [1000, 1000], batches_per_context: 3, batch_sizes: [1, 2], prompt_pool_size: 10, reuse_start_batch: 3, delay_ms: 0, seed: 1 };
    assert.throws(() => checkParamsLimits(params, limits), (e: unknown) => e instanceof SizeLimitError && e.field === 'params');
    // One prompt fewer per context (2 batches): ≥ 4000 bytes, which may fit, so it is not refused here.
    assert.doesNotThrow(() => checkParamsLimits({ ...params, batches_per_context: 2 }, limits));
  });

  it('a generated workload larger than MAX_WORKLOAD_BYTES → 413', async () => {
    // 3 contexts × 4 pool prompts × ~200 tokens (about 13 kB at ~4.9 bytes a token): over 8000 bytes once written, under every count limit.
    const res = await post('/workloads', { params: { contexts: [200, 220, 240], batches_per_context: 2, batch_sizes: [4], prompt_pool_size: 4 } });
    assert.equal(res.statusCode, 413, res.body);
    assert.equal(res.json().field, 'params');
    assert.equal(res.json().limit, 8000);
  });

  it('an uploaded document past a limit → 413 or 400 naming the field', async () => {
    const big = generateWorkload({ contexts: [200, 220, 240], batches_per_context: 2, batch_sizes: [4], prompt_pool_size: 4 });
    const tooBig = await post('/workloads', { document: big });
    assert.equal(tooBig.statusCode, 413, tooBig.body);
    assert.equal(tooBig.json().field, 'document');

    const longContext = generateWorkload({ contexts: [300], batches_per_context: 1, batch_sizes: [1], prompt_pool_size: 1 });
    const res = await post('/workloads', { document: longContext });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().field, 'document.batches.0.context_tokens');

    const manyBatches = generateWorkload({ contexts: [8], batches_per_context: 7, batch_sizes: [1], prompt_pool_size: 1 });
    const batches = await post('/workloads', { document: manyBatches });
    assert.equal(batches.statusCode, 400, batches.body);
    assert.equal(batches.json().field, 'document.batches');
  });

  it('a body past MAX_BODY_BYTES → 413', async () => {
    const res = await post('/workloads', { document: [{ batch_prompts: ['x'.repeat(250_000)], context_tokens: 8 }] });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error, 'LIMIT_EXCEEDED');
    assert.equal(res.json().field, '(body)');
  });

  it('max_batch_size past MAX_BATCH_SIZE → 400 naming it', async () => {
    const res = await post('/runs', { workload_id: 'wl-0', system_label: 'pcie', model: 'm', max_batch_size: 9 });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().field, 'max_batch_size');
    assert.equal(res.json().limit, 8);
  });

  it('within every limit → 201', async () => {
    const res = await post('/workloads', { params: { contexts: [32], batches_per_context: 2, batch_sizes: [2], prompt_pool_size: 2 } });
    assert.equal(res.statusCode, 201, res.body);
  });
});
