// Which lane a test file runs in, by its name alone (so membership cannot drift): see run-tests.mjs.
export const LANES = ['unit', 'process', 'browser'];

export function laneOf(file) {
  const name = file.split('/').pop();
  if (/\.unit\.test\.m?[jt]s$/.test(name)) return 'unit';
  if (/\.browser\.test\.m?[jt]s$/.test(name)) return 'browser';
  return 'process';
}
