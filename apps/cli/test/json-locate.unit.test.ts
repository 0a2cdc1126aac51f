/** json-locate.ts finds every value where jsonc-parser's full parse tree puts it, on random documents and the original tool's file. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseTree, type Node } from 'jsonc-parser';
import { childSpans, rootSpan, type JsonSpan } from '../src/json-locate.js';

const ORIGINAL = fileURLToPath(new URL('../../test/fixtures/original-tool-results.json', import.meta.url));

/** Both walks side by side: the same children, offsets, ends and keys at every level. */
function same(text: string, node: Node, span: JsonSpan, path: string): void {
  assert.equal(span.offset, node.offset, `${path}: offset`);
  assert.equal(span.end, node.offset + node.length, `${path}: end`);
  const kids = childSpans(text, span);
  if (node.type !== 'object' && node.type !== 'array') return assert.equal(kids, null, `${path}: a ${node.type} has no children`);
  const want = node.children ?? [];
  assert.equal(kids!.length, want.length, `${path}: children`);
  want.forEach((c, i) => {
    const value = node.type === 'object' ? c.children![1]! : c;
    if (node.type === 'object') assert.equal(kids![i]!.key, c.children![0]!.value, `${path}: key ${i}`);
    same(text, value, kids![i]!, `${path}/${i}`);
  });
}

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 4 : 6));
  const str = () => ['', 'a', 'q"uote', 'back\\slash\\', 'end\\"', '\u2013 dash', '{[,:]}', 'nl\nx', 'tab\t', '\\\\'][Math.floor(r() * 10)]!;
  if (k === 0) return str();
  if (k === 1) return [0, -1.5e-7, 123456789012, 3.14][Math.floor(r() * 4)];
  if (k === 2) return [true, false, null][Math.floor(r() * 3)];
  if (k === 3) return r() < 0.5 ? [] : {};
  if (k === 4) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, (_, i) => [`${str()}${i}`, randomValue(r, depth + 1)]));
}

test('json-locate agrees with jsonc-parser on 500 random documents in three layouts, and on the original tool\'s results file', () => {
  let seed = 20; // Park–Miller: the same documents on every run
  const r = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < 500; i++) {
    const doc = { runs: randomValue(r, 0), other: randomValue(r, 0) };
    for (const text of [JSON.stringify(doc), JSON.stringify(doc, null, 2), `\n  ${JSON.stringify(doc, null, '\t')}\n`]) same(text, parseTree(text)!, rootSpan(text), `doc ${i}`);
  }
  const original = readFileSync(ORIGINAL, 'utf8');
  same(original, parseTree(original)!, rootSpan(original), 'original tool');
});
