// A small lab of "hosts" for the multi-host tests: Linux network namespaces joined by veth
// pairs through a bridge that lives in a namespace of its own. The host's own network (the
// root namespace) gets no interface, address or route, so no packet of these tests can leave
// the namespaces made here. Addresses are 10.99.0.0/24, used only inside them.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnLogged, stopProcess, ROOT } from './helpers.mjs';

const ip = (...args) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString();

/** Why the multi-host tests cannot run here, or null when they can. */
export function netlabUnavailable() {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not running as root (network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)';
  try {
    ip('-V');
  } catch {
    return '`ip` (iproute2) is not installed';
  }
  const probe = `kvbprobe${process.pid}`;
  try {
    ip('netns', 'add', probe);
    ip('-n', probe, 'link', 'add', 'br0', 'type', 'bridge');
  } catch (err) {
    return `cannot create a network namespace with a bridge here: ${String(err.stderr ?? err.message).trim()}`;
  } finally {
    try {
      ip('netns', 'del', probe);
    } catch {}
  }
  return null;
}

/**
 * Namespaces left by an earlier test process that was killed before its cleanup ran: names
 * kvb<tag><pid>-*, removed when that pid no longer exists. Only this file makes such names.
 */
function sweepStaleLabs() {
  let list = '';
  try {
    list = ip('netns', 'list');
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const m = /^(kvb[a-z](\d+)-\S+)/.exec(line);
    if (!m || Number(m[2]) === process.pid) continue;
    let alive = true;
    try {
      process.kill(Number(m[2]), 0);
    } catch {
      alive = false;
    }
    if (alive) continue;
    try {
      ip('netns', 'del', m[1]);
    } catch {}
    rmSync(join('/etc/netns', m[1]), { recursive: true, force: true });
  }
}

export class NetLab {
  /**
   * @param {string} dir   folder for logs and the lab's state
   * @param {string} tag   a few letters, unique per test in this process (namespace names)
   */
  constructor(dir, tag) {
    // pid in every name: parallel test processes on one machine never collide.
    this.tag = tag;
    this.prefix = `kvb${tag}${process.pid}`;
    sweepStaleLabs();
    this.dir = dir;
    this.hosts = new Map(); // name -> { ns, addr }
    this.procs = [];
    this.switchNs = `${this.prefix}-sw`;
    ip('netns', 'add', this.switchNs);
    ip('-n', this.switchNs, 'link', 'set', 'lo', 'up');
    ip('-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', this.switchNs, 'link', 'set', 'br0', 'up');
  }

  /** A host with its own namespace, one interface on the lab's bridge, and `aliases` as names. */
  addHost(name, aliases = []) {
    const i = this.hosts.size + 1;
    const ns = `${this.prefix}-${name}`;
    const addr = `10.99.0.${10 + i}`;
    // Interface names: at most 15 characters.
    const [a, b] = [`kv${this.tag}${process.pid}h${i}`, `kv${this.tag}${process.pid}s${i}`];
    ip('netns', 'add', ns);
    this.hosts.set(name, { ns, addr, aliases: [name, ...aliases] });
    ip('link', 'add', 'name', a, 'netns', ns, 'type', 'veth', 'peer', 'name', b, 'netns', this.switchNs);
    ip('-n', this.switchNs, 'link', 'set', b, 'master', 'br0');
    ip('-n', this.switchNs, 'link', 'set', b, 'up');
    ip('-n', ns, 'link', 'set', a, 'name', 'eth0');
    ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    return this.hosts.get(name);
  }

  /**
   * Name resolution: `ip netns exec` bind-mounts /etc/netns/<ns>/hosts over /etc/hosts, so
   * every host resolves every other by name (nats-1, ctl, ...) as on a real network.
   */
  writeHostsFiles() {
    const lines = ['127.0.0.1 localhost', ...[...this.hosts.values()].map((h) => `${h.addr} ${h.aliases.join(' ')}`)];
    for (const h of this.hosts.values()) {
      const d = join('/etc/netns', h.ns);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'hosts'), `${lines.join('\n')}\n`);
    }
  }

  /** Start `cmd args` on host `name`, logging to <dir>/<label>.log. */
  start(name, label, cmd, args, env) {
    const h = this.hosts.get(name);
    const p = spawnLogged(label, 'ip', ['netns', 'exec', h.ns, cmd, ...args], { env, logFile: join(this.dir, `${label}.log`) });
    this.procs.push(p);
    return p;
  }

  /**
   * An HTTP client on host `name` (the user's machine), driven over stdin/stdout with one JSON
   * line per request, so the test process itself never needs a route into the lab.
   */
  client(name) {
    const h = this.hosts.get(name);
    const script = `
      const rl = require('node:readline').createInterface({ input: process.stdin });
      rl.on('line', async (line) => {
        const q = JSON.parse(line);
        try {
          const r = await fetch(q.url, { method: q.method, headers: q.headers, body: q.body, signal: AbortSignal.timeout(q.timeoutMs) });
          process.stdout.write(JSON.stringify({ id: q.id, status: r.status, text: await r.text() }) + '\\n');
        } catch (err) {
          process.stdout.write(JSON.stringify({ id: q.id, error: String(err && err.cause ? err.cause.code || err.cause.message : err.message) }) + '\\n');
        }
      });`;
    const child = spawn('ip', ['netns', 'exec', h.ns, process.execPath, '-e', script], { stdio: ['pipe', 'pipe', 'inherit'], cwd: ROOT });
    const handle = { name: 'client', child, exited: new Promise((d) => child.once('exit', d)), get running() { return child.exitCode === null && child.signalCode === null; } };
    this.procs.push(handle);
    const pending = new Map();
    let buf = '';
    let next = 0;
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        pending.get(msg.id)?.(msg);
        pending.delete(msg.id);
      }
    });
    /** fetch(url) from inside the lab: { status, text, json() } or { error }. */
    return (url, { method = 'GET', headers, body, timeoutMs = 10_000 } = {}) =>
      new Promise((done) => {
        const id = next++;
        pending.set(id, (m) => done({ ...m, json: () => JSON.parse(m.text) }));
        child.stdin.write(`${JSON.stringify({ id, url, method, headers, body: body === undefined ? undefined : JSON.stringify(body), timeoutMs })}\n`);
      });
  }

  /** Stop every process (SIGTERM, then SIGKILL), delete the namespaces and hosts files. */
  async close() {
    await Promise.all(this.procs.map((p) => stopProcess(p, { graceMs: 5000 }).catch(() => {})));
    for (const h of this.hosts.values()) {
      try {
        ip('netns', 'del', h.ns);
      } catch {}
      rmSync(join('/etc/netns', h.ns), { recursive: true, force: true });
    }
    try {
      ip('netns', 'del', this.switchNs);
    } catch {}
  }
}
