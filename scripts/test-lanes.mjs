// Which lane a test file runs in, by its name alone (so membership cannot drift): see run-tests.mjs.
export const LANES = ['unit', 'process', 'browser'];

export function laneOf(file) {
  const name = file.split('/').pop();
  if (/\.unit\.test\.m?[jt]s$/.test(name)) return 'unit';
  if (/\.browser\.test\.m?[jt]s$/.test(name)) return 'browser';
  return 'process';
}

// Whole-stack tests (deploy/, apps/) are the slow ones, libs/ the quick ones.
const GROUP_FIRST = ['deploy/', 'apps/', 'services/', 'libs/'];
const groupRank = (file) => {
  const i = GROUP_FIRST.findIndex((g) => file.startsWith(g));
  return i < 0 ? GROUP_FIRST.length : i;
};

/**
 * The order a lane starts its files in: longest first (by the last run's time of each), so that
 * with two or three files at a time the lane does not end on one slow file running alone. A file
 * with no recorded time (new, or a fresh clone) goes first, whole-stack tests before libraries.
 * `files` are relative to the repository root; `lastMs` maps each to its last duration in ms.
 */
export function scheduleOrder(files, lastMs = {}) {
  const known = (f) => typeof lastMs[f] === 'number';
  return files
    .map((f, i) => ({ f, i }))
    .sort((a, b) => {
      const ka = known(a.f), kb = known(b.f);
      if (ka !== kb) return ka ? 1 : -1;
      if (ka) return lastMs[b.f] - lastMs[a.f] || a.i - b.i;
      return groupRank(a.f) - groupRank(b.f) || a.i - b.i;
    })
    .map(({ f }) => f);
}
