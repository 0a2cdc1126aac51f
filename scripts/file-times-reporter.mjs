// A node:test reporter that writes, per test file, the summed duration of its top-level tests and
// whether any failed, as one JSON object (run-tests.mjs prints the slowest files of each lane from it).
export default async function* fileTimes(source) {
  const files = {};
  for await (const ev of source) {
    if ((ev.type !== 'test:pass' && ev.type !== 'test:fail') || ev.data.nesting !== 0 || !ev.data.file) continue;
    const f = (files[ev.data.file] ??= { ms: 0, failed: false });
    f.ms += ev.data.details?.duration_ms ?? 0;
    if (ev.type === 'test:fail') f.failed = true;
  }
  yield JSON.stringify(files);
}
