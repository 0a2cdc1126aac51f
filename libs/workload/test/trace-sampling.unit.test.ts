/** Trace import on a one-root trace (Mooncake's conversation trace shape), exact distinct tokens, and `workload show`'s description. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countWorkload, describeWorkload, importMooncake, summarizeWorkload } from '@kvbench/workload';

const line = (timestamp: number, input_length: number, hash_ids: number[], output_length = 3) => JSON.stringify({ timestamp, input_length, output_length, hash_ids });

/**
 * One root (block 0, the shared system prompt) and 60 conversations of 3 turns under it: turn t of
 * conversation c is [0, c₁, …, c_{2t}], each extending the previous turn by two blocks.
 */
function oneRootTrace(): string {
  const out: string[] = [];
  let next = 1;
  const convs = Array.from({ length: 60 }, () => Array.from({ length: 6 }, () => next++));
  let ts = 0;
  for (let t = 1; t <= 3; t++) for (const c of convs) out.push(line(ts++, (1 + 2 * t) * 512 - 100, [0, ...c.slice(0, 2 * t)]));
  return out.join('\n');
}

test('sampling a one-root trace keeps whole conversations (prefix trees below the shared trunk) and says what it kept', () => {
  const doc = importMooncake(oneRootTrace(), { blockTokens: 512, sampleRoots: 0.25, seed: 3 });
  const sampling = doc.params['sampling'] as Record<string, number | string>;
  assert.equal(sampling['roots'], 1);
  assert.equal(sampling['trees'], 60);
  assert.match(String(sampling['unit']), /prefix tree below the shared trunk/);
  const kept = sampling['trees_kept'] as number;
  assert.ok(kept > 5 && kept < 30, `${kept} of 60 conversations kept`);
  assert.equal(doc.requests.length, kept * 3, 'a kept conversation keeps all three turns');
  assert.equal(sampling['lines_kept'], doc.requests.length);
  // Every kept turn 2 and 3 reuses its conversation's earlier turn, as in the whole trace.
  const reuse = doc.requests.filter((r) => r.phase === 'reuse').length;
  assert.equal(reuse, doc.requests.length - 1, 'only the very first request is cold (the trunk block is shared by all)');
});

test('a trace of many roots is still sampled by whole roots', () => {
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) lines.push(line(i, 1024, [i % 40, 1000 + i]));
  const doc = importMooncake(lines.join('\n'), { blockTokens: 512, sampleRoots: 0.5, seed: 4 });
  assert.match(String((doc.params['sampling'] as Record<string, unknown>)['unit']), /^root/);
});

test('nothing left after sampling: the message says how many trees were kept of how many, and why', () => {
  const tiny = [line(0, 600, [0, 1]), line(1, 600, [0, 2])].join('\n');
  assert.throws(() => importMooncake(tiny, { blockTokens: 512, sampleRoots: 0.01, seed: 1 }), {
    name: 'ValidationError',
    field: 'sample_roots',
    message: /no request left after sampling and filters: sampling kept 0 of the trace's 2 prefix trees \(share 0\.01, seed 1\)/,
  });
  assert.throws(() => importMooncake(tiny, { blockTokens: 512, maxInputTokens: 100 }), { field: 'max_input_tokens', message: /longer than --max-input-tokens 100/ });
});

test('distinct tokens are exact: a shared prefix and a partial last block count once, as tokens', () => {
  // 3 lines: 1100 tokens [1,2,3]; 1024 [1,2] (all shared); 600 [1,5] (512 shared + 88 new).
  const doc = importMooncake([line(0, 1100, [1, 2, 3]), line(1, 1024, [1, 2]), line(2, 600, [1, 5])].join('\n'), { blockTokens: 512 });
  const c = countWorkload(doc);
  assert.equal(c.request_tokens, 1100 + 1024 + 600);
  assert.equal(c.prompt_tokens, 1100 + 0 + 88);
  assert.ok(c.prompt_tokens <= c.request_tokens);
});

test('workload show describes a trace: its source and sampling, lengths as a distribution, no params: null, no list of lengths', () => {
  const doc = importMooncake(oneRootTrace(), { blockTokens: 512, sampleRoots: 0.5, seed: 3, source: 'conv.jsonl' });
  const d = describeWorkload(doc);
  assert.equal(d.kind, 'trace');
  assert.equal(d.source['format'], 'mooncake');
  assert.equal(d.source['source'], 'conv.jsonl');
  assert.equal(d.source['block_tokens'], 512);
  assert.ok(d.sampling && d.sampling['trees'] === 60);
  assert.equal(d.contexts, null);
  assert.equal(d.prompt_tokens.requests, doc.requests.length);
  assert.deepEqual(d.prompt_tokens.buckets.map((b) => b.low), [1024, 2048, 2048 * 2].filter((low) => d.prompt_tokens.buckets.some((b) => b.low === low)));
  assert.equal(d.prompt_tokens.min, 3 * 512 - 100);
  assert.equal(d.prompt_tokens.max, 7 * 512 - 100);
  assert.equal(d.distinct_tokens, countWorkload(doc).prompt_tokens);
  assert.ok(!('params' in d));
  // The REST summary gives the same distribution (one function), and no list of lengths.
  const summary = summarizeWorkload(doc);
  assert.deepEqual(summary.prompt_lengths, d.prompt_tokens);
  assert.equal(summary.contexts, null);
});
