import seedrandom from 'seedrandom';

/**
 * sfc32, a small fast 32-bit generator, for prompt text only: it is called once per two tokens,
 * where seedrandom's ARC4 would dominate generation time. It is seeded from seedrandom, so text
 * is still a pure function of the workload seed and the prompt's serial number.
 */
export function textRandom(seed: number, serial: number): () => number {
  const init = seedrandom(`kvbench/prompt-text/${seed}/${serial}`);
  let a = init.int32() >>> 0;
  let b = init.int32() >>> 0;
  let c = init.int32() >>> 0;
  let d = 1;
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next(); // discard the weakly mixed first outputs
  return next;
}

/** The schedule's generator (batch sizes, reuse picks): seedrandom's default ARC4, as the original used a seeded RNG. */
export function scheduleRandom(seed: number): () => number {
  return seedrandom(`kvbench/schedule/${seed}`);
}
