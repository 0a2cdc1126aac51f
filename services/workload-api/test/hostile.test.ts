// Fault (issue 25, item 3): bodies that would make an agent open a file, connect to a host of the
// writer's choice, or take a number no engine can hold. Each is refused with a 4xx naming the field,
// before anything is queued.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiForSuite, SMALL_PARAMS } from './helpers.js';

describe('hostile run bodies', () => {
  const api = apiForSuite({ ENGINE_URL_ALLOWLIST: 'http://127.0.0.1:9/v1' });
  let run: Record<string, unknown>;
  before(async () => {
    const workloadId = (await api.app.inject({ method: 'POST', url: '/workloads', payload: { params: SMALL_PARAMS } })).json().id;
    run = { workload_id: workloadId, system_label: 'pcie', model: 'm' };
  });

  const cases: Array<[string, (r: Record<string, unknown>) => unknown, string, RegExp]> = [
    ['a profile that is a path', (r) => ({ ...r, engine: { kind: 'sim', options: { profile: '../../../../etc/passwd' } } }), 'engine.options.profile', /by name/],
    ['an absolute profile path', (r) => ({ ...r, engine: { kind: 'sim', options: { profile: '/etc/passwd' } } }), 'engine.options.profile', /by name/],
    ['a profile file name', (r) => ({ ...r, engine: { kind: 'sim', options: { profile: 'h100-pcie-gen5.json' } } }), 'engine.options.profile', /by name/],
    ['an unknown profile name', (r) => ({ ...r, engine: { kind: 'sim', options: { profile: 'passwd' } } }), 'engine.options.profile', /unknown simulator profile/],
    ['a file: URL', (r) => ({ ...r, engine: { kind: 'openai', url: 'file:///etc/passwd' } }), 'engine.url', /http/],
    ['a host not on the allow-list', (r) => ({ ...r, engine: { kind: 'openai', url: 'http://169.254.169.254/latest' } }), 'engine.url', /allow-list/],
    ['a URL with credentials', (r) => ({ ...r, engine: { kind: 'openai', url: 'http://user:pw@127.0.0.1:9/v1' } }), 'engine.url', /credentials/],
    ['output_tokens of 1e15', (r) => ({ ...r, output_tokens: 1e15 }), 'output_tokens', /MAX_SEQ_LEN/],
    ['output_tokens past max_seq_len', (r) => ({ ...r, max_seq_len: 4096, output_tokens: 8192 }), 'output_tokens', /exceeds max_seq_len/],
    ['max_seq_len of 1e12', (r) => ({ ...r, max_seq_len: 1e12 }), 'max_seq_len', /MAX_SEQ_LEN/],
    ['temperature of 1e9', (r) => ({ ...r, temperature: 1e9 }), 'temperature', /./],
    ['gpu_kv_max_tokens past 2^31', (r) => ({ ...r, overrides: { gpu_kv_max_tokens: 2 ** 40 } }), 'overrides.gpu_kv_max_tokens', /./],
    ['host_cache_gb of 1e300', (r) => ({ ...r, overrides: { host_cache_gb: 1e300 } }), 'overrides.host_cache_gb', /./],
    ['tokens_per_block of 1e9', (r) => ({ ...r, overrides: { tokens_per_block: 1e9 } }), 'overrides.tokens_per_block', /./],
    ['a time scale of 1e9', (r) => ({ ...r, engine: { kind: 'sim', options: { time_scale: 1e9 } } }), 'engine.options.time_scale', /./],
  ];
  for (const [name, body, field, message] of cases) {
    it(`POST /runs: ${name} → 400 naming ${field}`, async () => {
      const res = await api.app.inject({ method: 'POST', url: '/runs', payload: body(run) as object });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().field, field, res.body);
      assert.match(res.json().message, message);
    });
  }

  it('what the allow-list and the shipped profiles name is accepted', async () => {
    const ok = await api.app.inject({ method: 'POST', url: '/runs', payload: { ...run, engine: { kind: 'openai', url: 'http://127.0.0.1:9/v1' } } });
    assert.equal(ok.statusCode, 202, ok.body);
    const sim = await api.app.inject({ method: 'POST', url: '/runs', payload: { ...run, engine: { kind: 'sim', options: { profile: 'h100-pcie-gen5' } } } });
    assert.equal(sim.statusCode, 202, sim.body);
  });
});
