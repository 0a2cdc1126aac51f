import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  arrivalTimesMs, generateDocqa, generateMultiturn, generateOffloadPoint, importMooncake, parseAnyWorkload, PromptTokens,
  segmentTokens, serializeWorkload, summarizeWorkload,
} from '../src/index.js';

const mt = { sessions: 3, turns: 4, shared_prefix_tokens: 100, session_context_tokens: 50, turn_tokens: 20, answer_tokens: 7, active_sessions: 2, think_time_ms: 10, seed: 11 };

test('multiturn: lengths follow P + C + (t−1)(U + A) + U; turn t begins with turn t−1 and its canned answer; shared prefix identical', () => {
  const doc = generateMultiturn(mt);
  const ids = new PromptTokens(doc);
  const prompts = new Map(doc.prompts.map((p) => [p.id, p]));
  const answer = (sid: string, t: number) => segmentTokens(doc.token_space, `${sid}/t${t}/answer`, 7);
  const shared = ids.ids(prompts.get('s0-t01')!).subarray(0, 100);
  for (const r of doc.requests) {
    const t = r.tags.turn!;
    const p = ids.ids(prompts.get(r.prompt_id)!);
    assert.equal(p.length, 100 + 50 + (t - 1) * (20 + 7) + 20);
    assert.deepEqual(p.subarray(0, 100), shared, 'shared prefix the same in every session');
    assert.equal(r.output_tokens, 7);
    if (t > 1) {
      const prev = ids.ids(prompts.get(`${r.tags.session_id}-t${String(t - 1).padStart(2, '0')}`)!);
      assert.deepEqual(p.subarray(0, prev.length), prev, 'begins with the previous prompt');
      assert.deepEqual(p.subarray(prev.length, prev.length + 7), answer(r.tags.session_id!, t - 1), 'then its canned answer');
      assert.equal(r.tags.reusable_prefix_tokens, prev.length);
      assert.deepEqual(r.release, { type: 'after', request_id: `${r.tags.session_id}-t${String(t - 1).padStart(2, '0')}`, delay_ms: 10 });
    }
    for (const id of p) assert.ok(id >= 1000 && id < 30000, 'ids in the default range');
  }
  // Sessions beyond K wait for a lane: s2 starts after s0's last turn.
  assert.deepEqual(doc.requests.find((r) => r.request_id === 's2-t01')!.release, { type: 'after', request_id: 's0-t04', delay_ms: 0 });
  assert.equal(doc.requests.find((r) => r.request_id === 's0-t01')!.phase, 'cold');
  assert.equal(doc.requests.find((r) => r.request_id === 's1-t01')!.tags.reusable_prefix_tokens, 100);
});

test('scenario documents: same seed, same bytes; another seed other ids; the text round-trips through parse', () => {
  const a = serializeWorkload(generateMultiturn(mt));
  assert.equal(serializeWorkload(generateMultiturn(mt)), a);
  const back = parseAnyWorkload(JSON.parse(a));
  assert.equal(serializeWorkload(back), a);
  const other = generateMultiturn({ ...mt, seed: 12 });
  const first = (d: typeof other) => new PromptTokens(d).ids(d.prompts[0]!).subarray(0, 8);
  assert.notDeepEqual(first(other), first(back as typeof other));
  const docqa = generateDocqa({ documents: 4, document_tokens: 64, question_tokens: 8, rounds: 2, order: 'random', arrival: 'gamma', rate: 5, burstiness: 0.5, seed: 3 });
  assert.equal(serializeWorkload(parseAnyWorkload(JSON.parse(serializeWorkload(docqa)))), serializeWorkload(docqa));
  assert.equal(summarizeWorkload(docqa).kind, 'docqa');
});

test('docqa: one document then a question of its own; tile walks the list, interleave repeats in place; round 1 cold', () => {
  const tile = generateDocqa({ documents: 3, document_tokens: 64, questions: 2, question_tokens: 8, order: 'tile', rounds: 2 });
  assert.deepEqual(tile.requests.slice(0, 6).map((r) => r.tags.document_id), ['doc0', 'doc1', 'doc2', 'doc0', 'doc1', 'doc2']);
  const inter = generateDocqa({ documents: 3, document_tokens: 64, questions: 2, question_tokens: 8, order: 'interleave', rounds: 1 });
  assert.deepEqual(inter.requests.map((r) => r.tags.document_id), ['doc0', 'doc0', 'doc1', 'doc1', 'doc2', 'doc2']);
  const ids = new PromptTokens(tile);
  for (const p of tile.prompts) assert.equal(ids.ids(p).length, 72);
  assert.deepEqual(tile.requests.slice(0, 3).map((r) => r.phase), ['cold', 'cold', 'cold']);
  assert.ok(tile.requests.slice(3).every((r) => r.phase === 'reuse' && r.tags.reusable_prefix_tokens === 64));
  assert.equal(new Set(tile.prompts.map((p) => p.segments[1]!.segment)).size, tile.requests.length, 'every question its own');
});

test('arrivals: Poisson gaps have mean 1/rate and CV 1, gamma(b) CV 1/sqrt(b); the last arrival lands at n/rate', () => {
  const n = 20000;
  const stats = (t: number[]) => {
    const gaps = t.map((x, i) => x - (i ? t[i - 1]! : 0));
    const mean = gaps.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / (n - 1));
    return { mean, cv: sd / mean };
  };
  const p = arrivalTimesMs(n, { arrival: 'poisson', rate: 50, burstiness: 1 }, 1);
  assert.ok(Math.abs(p.at(-1)! - (n / 50) * 1000) < 1e-6);
  const ps = stats(p);
  // Standard errors over 20000 gaps: mean ±0.7%, CV ±1%; 4 sigma.
  assert.ok(Math.abs(ps.mean - 20) < 20 * 0.03, `mean gap ${ps.mean}`);
  assert.ok(Math.abs(ps.cv - 1) < 0.04, `cv ${ps.cv}`);
  const g = stats(arrivalTimesMs(n, { arrival: 'gamma', rate: 50, burstiness: 0.25 }, 2));
  assert.ok(Math.abs(g.cv - 2) < 0.12, `gamma(0.25) cv ${g.cv}`);
  assert.deepEqual(arrivalTimesMs(3, { arrival: 'closed', burstiness: 1 }, 1), [0, 0, 0]);
  assert.deepEqual(arrivalTimesMs(50, { arrival: 'poisson', rate: 5, burstiness: 1 }, 9), arrivalTimesMs(50, { arrival: 'poisson', rate: 5, burstiness: 1 }, 9));
});

const line = (timestamp: number, input_length: number, hash_ids: number[], output_length = 3) => JSON.stringify({ timestamp, input_length, output_length, hash_ids });

test('Mooncake import: shared hash ids give identical blocks, the partial last block is a prefix, timestamps scaled', () => {
  const trace = [line(0, 1100, [1, 2, 3]), line(500, 1024, [1, 2]), line(700, 300, [9]), line(900, 600, [1, 5])].join('\n') + '\n';
  const doc = importMooncake(trace, { blockTokens: 512, timeScale: 2 });
  const ids = new PromptTokens(doc);
  const p = doc.prompts.map((x) => ids.ids(x));
  assert.deepEqual(p.map((x) => x.length), [1100, 1024, 300, 600]);
  assert.deepEqual(p[1]!, p[0]!.subarray(0, 1024), 'hash ids 1, 2: the same 1024 ids');
  assert.deepEqual(p[3]!.subarray(0, 512), p[0]!.subarray(0, 512));
  const full3 = segmentTokens(doc.token_space, 'h3', 512);
  assert.deepEqual(p[0]!.subarray(1024), full3.subarray(0, 76), 'partial block: a prefix of the id\'s full block');
  assert.deepEqual(doc.requests.map((r) => (r.release.type === 'at' ? r.release.at_ms : -1)), [0, 1000, 1400, 1800]);
  assert.deepEqual(doc.requests.map((r) => r.tags.reusable_prefix_tokens), [0, 1024, 0, 512]);
  assert.deepEqual(doc.requests.map((r) => r.tags.trace_line), [1, 2, 3, 4]);
  assert.equal(doc.requests[0]!.output_tokens, 3);
});

test('Mooncake import: sampling keeps prefix trees whole; limits; a bad line is refused with its number', () => {
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) lines.push(line(i, 1024, [i % 40, 1000 + i]));
  const doc = importMooncake(lines.join('\n'), { blockTokens: 512, sampleRoots: 0.5, seed: 4 });
  const roots = new Map<string, number>();
  for (const p of doc.prompts) roots.set(p.segments[0]!.segment, (roots.get(p.segments[0]!.segment) ?? 0) + 1);
  assert.ok(roots.size > 5 && roots.size < 35, `${roots.size} of 40 trees kept`);
  for (const [, n] of roots) assert.equal(n, 10, 'a kept tree keeps all its requests');
  assert.equal(importMooncake(lines.join('\n'), { blockTokens: 512, limit: 7 }).requests.length, 7);
  assert.equal(importMooncake([line(0, 300, [1]), line(1, 5000, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11])].join('\n'), { blockTokens: 512, maxInputTokens: 1000 }).requests.length, 1);
  assert.throws(() => importMooncake([line(0, 1024, [1, 2]), line(1, 1100, [1, 2])].join('\n'), { blockTokens: 512 }), { name: 'ValidationError', field: 'line 2.hash_ids', message: /line 2: input_length 1100 is 3 blocks/ });
  assert.throws(() => importMooncake([line(0, 1024, [1, 2]), JSON.stringify({ timestamp: 1, input_length: 5, output_length: 1 })].join('\n'), { blockTokens: 512 }), { field: 'line 2.hash_ids' });
  assert.throws(() => importMooncake('{"timestamp": 0,', { blockTokens: 512 }), { field: 'line 1' });
});

test('offload point: cold, eviction traffic, then the same prompt again, each after the previous', () => {
  const doc = generateOffloadPoint({ promptTokens: 1000, evictionTokens: 5000, evictionRequestTokens: 2048, seed: 1 });
  assert.deepEqual(doc.requests.map((r) => r.request_id), ['cold', 'evict000', 'evict001', 'evict002', 'replay']);
  assert.equal(doc.requests.at(-1)!.prompt_id, doc.requests[0]!.prompt_id);
  assert.deepEqual(doc.requests.map((r) => r.phase), ['cold', 'cold', 'cold', 'cold', 'reuse']);
  assert.equal(doc.max_concurrency, 1);
});

test('bad input names the field: turns 0, an unknown segment, an after that is not earlier, a phase that lies', () => {
  assert.throws(() => generateMultiturn({ ...mt, turns: 0 }), { name: 'ValidationError', field: 'turns' });
  assert.throws(() => generateDocqa({ documents: 2, document_tokens: 10, question_tokens: 2, arrival: 'poisson' }), { field: 'rate' });
  const good = JSON.parse(serializeWorkload(generateMultiturn(mt)));
  const broken = (f: (d: any) => void) => {
    const d = structuredClone(good);
    f(d);
    return d;
  };
  assert.throws(() => parseAnyWorkload(broken((d) => (d.prompts[0].segments[0].segment = 'nope'))), { field: 'prompts.0.segments.0.segment' });
  assert.throws(() => parseAnyWorkload(broken((d) => (d.requests[1].release = { type: 'after', request_id: 's2-t04', delay_ms: 0 }))), { field: 'requests.1.release.request_id' });
  assert.throws(() => parseAnyWorkload(broken((d) => (d.requests[0].phase = 'reuse'))), { field: 'requests.0.phase' });
  assert.throws(() => parseAnyWorkload(broken((d) => (d.prompts[0].tokens += 1))), { field: 'prompts.0.tokens' });
  // Turn 2 is stored as turn 1 (its prefix) plus its own segments; a prefix must be an earlier prompt.
  assert.equal(good.prompts[1].prefix, 's0-t01');
  assert.throws(() => parseAnyWorkload(broken((d) => (d.prompts[1].prefix = 's0-t03'))), { field: 'prompts.1.prefix' });
  assert.throws(() => parseAnyWorkload(broken((d) => (d.prompts[1].tokens -= 1))), { field: 'prompts.1.tokens' });
});
