// Preloaded (--import) into every test file of the unit lane by scripts/run-tests.mjs: a unit test
// starts no process, so starting one fails the test at once, naming the lane it belongs in.
// Only the test files' own processes are guarded (NODE_TEST_CONTEXT is set there by node --test),
// not the runner that spawns them.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

if (process.env.NODE_TEST_CONTEXT) {
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
    childProcess[name] = () => {
      throw new Error(
        `unit lane: a *.unit.test file may not start a process (child_process.${name}); ` +
          'rename it to *.test.ts (process lane) — see CONTRIBUTING.md "Test lanes"',
      );
    };
  }
  syncBuiltinESMExports();
}
