/**
 * Block hash chain: block i of a prompt is identified by a hash of block i−1's hash and its own
 * tokens, so equal hashes mean equal prefixes (as TensorRT-LLM's radix tree keys blocks by
 * prefix). 53-bit integers, so they survive JSON as numbers.
 */
function mix(h: number, x: number): number {
  h = Math.imul(h ^ x, 0x5bd1e995);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Hash of one block, chained to its parent's hash (null for the first block). */
export function blockHash(parent: number | null, tokens: ArrayLike<number>, from: number, to: number): number {
  const p = parent ?? 0;
  let lo = mix(0x9e3779b9, p >>> 0);
  let hi = mix(0x85ebca6b, Math.floor(p / 4294967296) >>> 0);
  for (let i = from; i < to; i++) {
    const t = tokens[i]!;
    lo = mix(lo, t);
    hi = mix(hi, t ^ 0x27d4eb2f);
  }
  lo = mix(lo, to - from);
  hi = mix(hi, lo);
  return (hi & 0x1fffff) * 4294967296 + lo;
}

/** Hashes of every full block of `tokens`. */
export function chainHashes(tokens: ArrayLike<number>, tokensPerBlock: number): number[] {
  const out: number[] = [];
  let parent: number | null = null;
  for (let i = 0; i + tokensPerBlock <= tokens.length; i += tokensPerBlock) {
    parent = blockHash(parent, tokens, i, i + tokensPerBlock);
    out.push(parent);
  }
  return out;
}
