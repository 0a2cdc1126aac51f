import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeWorkload, generateMultiturn, importMooncake, parseAnyWorkload, serializeWorkload } from '@kvbench/workload';
import { apiForSuite } from './helpers.js';

const MULTITURN = { kind: 'multiturn', sessions: 3, turns: 2, shared_prefix_tokens: 64, turn_tokens: 16, answer_tokens: 4, active_sessions: 2, seed: 5 };

describe('POST /workloads with a scenario', () => {
  const api = apiForSuite({ MAX_CONTEXT_TOKENS: '4096', MAX_WORKLOAD_BYTES: '65536' });
  const post = (payload: unknown) => api.app.inject({ method: 'POST', url: '/workloads', payload: payload as object });

  it('generates the same document as the CLI (same kind and parameters, same id) and serves it back', async () => {
    const res = await post({ scenario: MULTITURN });
    assert.equal(res.statusCode, 201, res.body);
    const summary = res.json();
    assert.equal(summary.kind, 'multiturn');
    assert.equal(summary.requests, 6);
    const { kind: _k, ...params } = MULTITURN;
    const local = generateMultiturn(params);
    const full = await api.app.inject({ method: 'GET', url: `/workloads/${summary.id}?full=true` });
    assert.equal(full.statusCode, 200);
    assert.equal(serializeWorkload(parseAnyWorkload(full.json().document)), serializeWorkload(local));
    // Uploading the generated document gives the same id.
    const up = await post({ document: JSON.parse(serializeWorkload(local)) });
    assert.equal(up.statusCode, 201, up.body);
    assert.equal(up.json().id, summary.id);
  });

  it('summarizes a trace\'s prompt lengths as a distribution, not a list of every length (as workload show does)', async () => {
    // 20 lines, 20 different lengths from 100 to 2000 tokens, sharing a first block.
    const lines = Array.from({ length: 20 }, (_, i) => {
      const input_length = 100 * (i + 1);
      const hash_ids = Array.from({ length: Math.ceil(input_length / 512) }, (_, k) => (k === 0 ? 0 : 100 * i + k));
      return JSON.stringify({ timestamp: i * 10, input_length, output_length: 4, hash_ids });
    });
    const doc = importMooncake(lines.join('\n'), { blockTokens: 512 });
    const res = await post({ document: JSON.parse(serializeWorkload(doc)) });
    assert.equal(res.statusCode, 201, res.body);
    const summary = res.json();
    assert.equal(summary.kind, 'trace');
    assert.equal(summary.contexts, null);
    assert.deepEqual(summary.prompt_lengths, describeWorkload(doc).prompt_tokens);
    assert.equal(summary.prompt_lengths.requests, 20);
    assert.deepEqual([summary.prompt_lengths.min, summary.prompt_lengths.max], [100, 2000]);
    assert.deepEqual(summary.prompt_lengths.buckets, [
      { low: 64, high: 128, requests: 1 }, { low: 128, high: 256, requests: 1 }, { low: 256, high: 512, requests: 3 },
      { low: 512, high: 1024, requests: 5 }, { low: 1024, high: 2048, requests: 10 },
    ]);
    const got = await api.app.inject({ method: 'GET', url: `/workloads/${summary.id}` });
    assert.deepEqual(got.json(), summary);
  });

  it('bad input is a 4xx naming the field (limits checked before anything is generated)', async () => {
    const cases: Array<[unknown, string, number]> = [
      [{ scenario: { ...MULTITURN, turns: 0 } }, 'scenario.turns', 400],
      [{ scenario: { ...MULTITURN, kind: 'chat' } }, 'scenario.kind', 400],
      [{ scenario: { kind: 'docqa', documents: 2, document_tokens: 64, question_tokens: 8, arrival: 'poisson' } }, 'scenario.rate', 400],
      // A prompt beyond MAX_CONTEXT_TOKENS; a working set beyond MAX_WORKLOAD_BYTES / 4 (16384 tokens).
      [{ scenario: { ...MULTITURN, turns: 300 } }, 'scenario.turns', 400],
      [{ scenario: { kind: 'docqa', documents: 40, document_tokens: 1024, question_tokens: 8 } }, 'scenario.documents', 400],
      [{ scenario: MULTITURN, params: { contexts: [64] } }, 'params', 400],
    ];
    for (const [payload, field, status] of cases) {
      const res = await post(payload);
      assert.equal(res.statusCode, status, `${field}: ${res.body}`);
      assert.equal(res.json().field, field, res.body);
    }
  });
});
