// Helpers shared by deploy/test/*.test.mjs (kept outside test/ so node --test does not run them).
// deploy/ is no workspace package: built packages are loaded by path, their dependencies resolved from their own folders.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEPLOY = join(ROOT, 'deploy');

// The workload-api depends on every @nats-io package kvbench uses (obj included).
const fromCommon = createRequire(join(ROOT, 'services/workload-api/package.json'));
/** nats.js modules as @kvbench/common itself resolves them (same versions as the services). */
export async function natsModules() {
  const load = (name) => import(pathToFileURL(fromCommon.resolve(name)).href);
  const [transport, jetstream, kv, obj] = await Promise.all(
    ['@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/kv', '@nats-io/obj'].map(load),
  );
  return { ...transport, ...jetstream, ...kv, ...obj };
}
/** @kvbench/common's contracts and @kvbench/bus's names and setup, as one module object. */
export const kvbenchCommon = async () => ({
  ...(await import(pathToFileURL(join(ROOT, 'libs/common/dist/src/index.js')).href)),
  ...(await import(pathToFileURL(join(ROOT, 'libs/bus/dist/src/index.js')).href)),
});

export const natsServerBin = () => {
  for (const p of (process.env.PATH ?? '').split(':').concat('/usr/sbin')) {
    try {
      if (statSync(join(p, 'nats-server')).isFile()) return join(p, 'nats-server');
    } catch {}
  }
  return undefined;
};

/**
 * Copy deploy/nats (all files, cluster/ included) into `dest`, rewriting only what must differ
 * on a test machine: the JetStream store_dir, and optionally the client and monitoring
 * listen addresses. Everything else is the deploy file as shipped.
 */
export function copyNatsConfigs(dest, { storeDir, listen, http } = {}) {
  const walk = (from, to) => {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) {
      const src = join(from, name);
      if (statSync(src).isDirectory()) {
        walk(src, join(to, name));
        continue;
      }
      let text = readFileSync(src, 'utf8');
      if (storeDir) text = text.replace('store_dir: "/var/lib/kvbench-nats"', `store_dir: "${storeDir}"`);
      if (listen) text = text.replace(/^listen: 0\.0\.0\.0:4222$/m, `listen: ${listen}`);
      if (http) text = text.replace(/^http: 0\.0\.0\.0:8222$/m, `http: ${http}`);
      writeFileSync(join(to, name), text);
    }
  };
  walk(join(DEPLOY, 'nats'), dest);
  return dest;
}

export async function freePort() {
  return new Promise((done, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => done(port));
    });
  });
}

/** Poll `check` until it returns something truthy; every wait in these tests is bounded. */
export async function waitFor(check, { timeoutMs = 30_000, intervalMs = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Spawn a process with its stdout and stderr appended to `logFile`. The handle keeps the
 * log's tail for failure messages and knows whether the process has exited.
 */
export function spawnLogged(name, cmd, args, { env, logFile, cwd = ROOT } = {}) {
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile, { flags: 'a' });
  let tail = '';
  const keep = (d) => {
    log.write(d);
    tail = (tail + d.toString()).slice(-6000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  exited.then(() => log.end());
  return {
    name,
    child,
    exited,
    logFile,
    get tail() {
      return tail;
    },
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
  };
}

/** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(handle, { signal = 'SIGTERM', graceMs = 8000 } = {}) {
  if (!handle || !handle.running) return;
  const timer = setTimeout(() => handle.child.kill('SIGKILL'), graceMs);
  handle.child.kill(signal);
  await handle.exited;
  clearTimeout(timer);
}
