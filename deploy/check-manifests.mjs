#!/usr/bin/env node
// Structural checks of deploy/ that need no Docker engine, no cluster and no systemd:
// the compose file and the Kubernetes manifests parse and refer only to things that exist,
// every environment variable they (and the systemd env examples) set is one a service
// actually reads, and the Dockerfile's stages and files line up.
// Usage: node deploy/check-manifests.mjs [--root <repo>] [--deploy <dir>]   (exit 1 on any problem)
// --deploy checks another copy of deploy/ (the tests break a copy on purpose).
// Prints one "ok"/"skip"/"FAIL" line per check, so validate.sh can report what ran.
import { readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const argRoot = process.argv.indexOf('--root');
const root = resolve(argRoot > 0 ? process.argv[argRoot + 1] : join(here, '..'));
const argDeploy = process.argv.indexOf('--deploy');
const deploy = resolve(argDeploy > 0 ? process.argv[argDeploy + 1] : join(root, 'deploy'));

// `yaml` is a dependency of libs/runner; deploy/ is not a package, so borrow its resolution.
const YAML = createRequire(join(root, 'libs/runner/package.json'))('yaml');

const problems = [];
const fail = (where, msg) => problems.push(`${where}: ${msg}`);
const say = (line) => console.log(line);

// ---------------------------------------------------------------------------------------
// Environment variables each process reads, from the services' own zod schemas (compiled).
// Without a build, the name check is skipped (and said so) rather than guessed.
async function envNames() {
  const spec = {
    'workload-api': ['services/workload-api/dist/src/config.js', 'apiEnvSchema'],
    aggregator: ['services/aggregator/dist/src/config.js', 'aggregatorEnvSchema'],
    'host-agent': ['services/host-agent/dist/src/config.js', 'AgentEnv'],
  };
  const out = {};
  for (const [svc, [file, name]] of Object.entries(spec)) {
    const p = join(root, file);
    if (!existsSync(p)) return { missing: file };
    const mod = await import(pathToFileURL(p).href);
    if (!mod[name]?.shape) return { missing: `${file} (export ${name})` };
    out[svc] = new Set(Object.keys(mod[name].shape));
  }
  // Set by the deploy files for node or the engine, not read by kvbench's schemas.
  for (const s of Object.values(out)) for (const v of ['HOME', 'NODE_ENV']) s.add(v);
  return { names: out };
}
const env = await envNames();
if (env.missing) say(`skip env-names: ${env.missing} not built (pnpm exec tsc -b); variable names not cross-checked`);
const checkEnvName = (where, svc, key) => {
  if (!env.names) return;
  if (!env.names[svc]) return fail(where, `unknown service ${svc}`);
  if (!env.names[svc].has(key)) fail(where, `${key} is not read by ${svc} (known: ${[...env.names[svc]].sort().join(', ')})`);
};
const SERVICES = new Set(['workload-api', 'aggregator', 'host-agent']);

// ---------------------------------------------------------------------------------------
// docker-compose.yml
function checkCompose() {
  const file = join(deploy, 'docker/docker-compose.yml');
  const where = 'docker/docker-compose.yml';
  let doc;
  try {
    // Compose supports YAML merge keys (<<: *anchor); so must the parser.
    doc = YAML.parse(readFileSync(file, 'utf8'), { merge: true, prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    return fail(where, `does not parse: ${err.message}`);
  }
  const base = dirname(file);
  const services = doc?.services;
  if (!services || typeof services !== 'object') return fail(where, 'no services');
  for (const need of ['nats', 'workload-api', 'aggregator', 'agent']) if (!services[need]) fail(where, `service ${need} missing`);
  const volumes = new Set(Object.keys(doc.volumes ?? {}));
  for (const [name, s] of Object.entries(services)) {
    const w = `${where} services.${name}`;
    if (!s.image && !s.build) fail(w, 'neither image nor build');
    if (s.build) {
      const ctx = resolve(base, s.build.context ?? '.');
      if (!existsSync(ctx)) fail(w, `build.context ${s.build.context} does not exist`);
      const df = join(ctx, s.build.dockerfile ?? 'Dockerfile');
      if (!existsSync(df)) fail(w, `build.dockerfile ${s.build.dockerfile} not found in the context`);
      if (!s.command || !SERVICES.has(s.command[0])) fail(w, `command must name a service of the image (${[...SERVICES].join(', ')}), got ${JSON.stringify(s.command)}`);
      else for (const key of Object.keys(s.environment ?? {})) checkEnvName(`${w}.environment`, s.command[0], key);
    }
    if (s.environment && Array.isArray(s.environment)) fail(w, 'environment as a list: use a map so keys can be checked');
    for (const [k, v] of Object.entries(s.environment ?? {})) {
      if (v !== null && typeof v === 'object') fail(w, `environment ${k} is not a scalar`);
    }
    for (const v of s.volumes ?? []) {
      const src = String(typeof v === 'string' ? v.split(':')[0] : v.source);
      if (src.startsWith('.') || src.startsWith('/')) {
        if (!existsSync(resolve(base, src))) fail(w, `bind mount source ${src} does not exist`);
      } else if (!volumes.has(src)) fail(w, `named volume ${src} is not declared under volumes:`);
    }
    for (const p of s.ports ?? []) {
      if (!/^(\d+\.\d+\.\d+\.\d+:)?\d+:\d+(\/(tcp|udp))?$/.test(String(p))) fail(w, `port ${p} is not HOST:CONTAINER`);
    }
    const deps = s.depends_on ?? {};
    for (const [dep, cond] of Array.isArray(deps) ? deps.map((d) => [d, {}]) : Object.entries(deps)) {
      if (!services[dep]) fail(w, `depends_on ${dep}: no such service`);
      else if (cond?.condition === 'service_healthy' && !services[dep].healthcheck) fail(w, `depends_on ${dep} healthy, but ${dep} has no healthcheck`);
      if (services[dep]?.profiles && !s.profiles) fail(w, `depends on ${dep}, which only starts with a profile`);
    }
    if (s.healthcheck && !Array.isArray(s.healthcheck.test)) fail(w, 'healthcheck.test must be an exec array');
  }
  if (!services.agent?.profiles?.length) fail(where, 'the agent must sit behind a profile (not part of the control plane)');
  const natsMounts = (services.nats?.volumes ?? []).map(String);
  if (!natsMounts.some((m) => m.endsWith(':/var/lib/kvbench-nats'))) fail(where, 'nats: no volume at the JetStream store_dir /var/lib/kvbench-nats');
  say(`ok   compose: ${Object.keys(services).length} services, ${volumes.size} volumes`);
}

// ---------------------------------------------------------------------------------------
// Dockerfile + entrypoint
function checkDockerfile() {
  const where = 'docker/Dockerfile';
  const text = readFileSync(join(deploy, 'docker/Dockerfile'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  const args = Object.fromEntries(lines.filter((l) => /^ARG /.test(l)).map((l) => l.slice(4).split('=')).map(([k, v]) => [k.trim(), v?.trim()]));
  const stages = [];
  for (const l of lines.filter((l) => /^FROM /i.test(l))) {
    const m = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(l);
    const image = m[1].replace(/\$\{(\w+)\}/g, (_, k) => args[k] ?? '');
    if (image !== 'node:20-bookworm-slim') fail(where, `stage from ${image}, expected node:20-bookworm-slim`);
    stages.push(m[2]);
  }
  if (stages.length < 2) fail(where, 'not multi-stage');
  for (const m of text.matchAll(/--from=(\S+)/g)) if (!stages.includes(m[1])) fail(where, `COPY --from=${m[1]}: no such stage`);
  for (const need of ['corepack enable', 'pnpm install --frozen-lockfile', 'pnpm exec tsc -b']) {
    if (!text.includes(need)) fail(where, `does not run "${need}"`);
  }
  const pm = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager;
  if (!/^pnpm@\d+\.\d+\.\d+/.test(pm ?? '')) fail('package.json', `packageManager ${pm} is not a pinned pnpm (corepack needs it)`);
  const ep = /ENTRYPOINT\s+(\[.*\])/.exec(text);
  if (!ep) fail(where, 'no ENTRYPOINT');
  else {
    const script = JSON.parse(ep[1]).find((a) => a.startsWith('/opt/kvbench/'));
    const rel = script?.slice('/opt/kvbench/'.length) ?? '';
    const local = rel.startsWith('deploy/') ? join(deploy, rel.slice('deploy/'.length)) : join(root, rel);
    if (!script || !existsSync(local)) fail(where, `ENTRYPOINT script ${script} is not in the repository`);
  }
  if (!existsSync(join(deploy, 'docker/Dockerfile.dockerignore'))) fail(where, 'Dockerfile.dockerignore missing (node_modules would enter the context)');
  say(`ok   dockerfile: stages ${stages.join(', ')}; packageManager ${pm}`);
}

// ---------------------------------------------------------------------------------------
// Kubernetes manifests
const NAMESPACED = new Set(['ConfigMap', 'Secret', 'Service', 'Deployment', 'StatefulSet', 'PersistentVolumeClaim']);
// Made from files with kubectl (see nats.yaml), so it is not among the manifests.
const EXTERNAL_CONFIGMAPS = new Set(['kvbench-nats-config']);

function checkK8s() {
  const dir = join(deploy, 'k8s');
  const kust = YAML.parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  const listed = [...(kust.resources ?? [])].sort();
  if (JSON.stringify(files) !== JSON.stringify(listed)) fail('k8s/kustomization.yaml', `resources ${listed.join(',')} differ from files ${files.join(',')}`);
  const objs = [];
  for (const f of files) {
    const docs = YAML.parseAllDocuments(readFileSync(join(dir, f), 'utf8'), { prettyErrors: true, uniqueKeys: true });
    for (const d of docs) {
      if (d.errors.length) {
        fail(`k8s/${f}`, `does not parse: ${d.errors[0].message}`);
        continue;
      }
      const o = d.toJS();
      if (o == null) continue;
      const w = `k8s/${f} ${o.kind}/${o.metadata?.name}`;
      if (!o.apiVersion || !o.kind || !o.metadata?.name) fail(w, 'apiVersion, kind and metadata.name are required');
      if (NAMESPACED.has(o.kind) && o.metadata?.namespace !== 'kvbench') fail(w, 'namespace must be kvbench');
      objs.push({ ...o, file: f, where: w });
    }
  }
  const byKind = (k) => objs.filter((o) => o.kind === k);
  const names = (k) => new Set(byKind(k).map((o) => o.metadata.name));
  const configMaps = names('ConfigMap');
  const secrets = new Map(byKind('Secret').map((s) => [s.metadata.name, new Set(Object.keys({ ...s.data, ...s.stringData }))]));
  const pvcs = names('PersistentVolumeClaim');
  const workloads = [...byKind('Deployment'), ...byKind('StatefulSet')];
  for (const w of workloads) {
    const sel = w.spec?.selector?.matchLabels ?? {};
    const podLabels = w.spec?.template?.metadata?.labels ?? {};
    if (!Object.keys(sel).length) fail(w.where, 'empty selector');
    for (const [k, v] of Object.entries(sel)) if (podLabels[k] !== v) fail(w.where, `selector ${k}=${v} does not match the pod template`);
    const pod = w.spec.template.spec;
    const volNames = new Set([...(pod.volumes ?? []).map((v) => v.name), ...(w.spec.volumeClaimTemplates ?? []).map((v) => v.metadata.name)]);
    for (const v of pod.volumes ?? []) {
      if (v.configMap && !configMaps.has(v.configMap.name) && !EXTERNAL_CONFIGMAPS.has(v.configMap.name)) fail(w.where, `volume ${v.name}: no ConfigMap ${v.configMap.name}`);
      if (v.persistentVolumeClaim && !pvcs.has(v.persistentVolumeClaim.claimName)) fail(w.where, `volume ${v.name}: no PVC ${v.persistentVolumeClaim.claimName}`);
    }
    for (const c of pod.containers ?? []) {
      for (const m of c.volumeMounts ?? []) if (!volNames.has(m.name)) fail(w.where, `mount ${m.name}: no such volume`);
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef && !configMaps.has(e.configMapRef.name)) fail(w.where, `envFrom: no ConfigMap ${e.configMapRef.name}`);
        if (e.secretRef && !secrets.has(e.secretRef.name)) fail(w.where, `envFrom: no Secret ${e.secretRef.name}`);
      }
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref && !secrets.get(ref.name)?.has(ref.key)) fail(w.where, `env ${e.name}: no key ${ref.key} in Secret ${ref.name}`);
      }
      for (const p of w.kind === 'Deployment' ? [c.readinessProbe, c.livenessProbe] : []) {
        const port = p?.httpGet?.port;
        if (port && typeof port === 'string' && !(c.ports ?? []).some((cp) => cp.name === port)) fail(w.where, `probe port ${port} is not a named container port`);
      }
      // The kvbench image: args[0] picks the service; env names must be ones it reads.
      if (String(c.image).includes('kvbench')) {
        const svc = c.args?.[0];
        if (!SERVICES.has(svc)) fail(w.where, `args[0] ${svc} is not a service of the image`);
        else {
          for (const e of c.env ?? []) checkEnvName(`${w.where} env`, svc, e.name);
          for (const e of c.envFrom ?? []) {
            const cm = byKind('ConfigMap').find((m) => m.metadata.name === e.configMapRef?.name);
            for (const key of Object.keys(cm?.data ?? {})) checkEnvName(`${w.where} envFrom ${cm.metadata.name}`, svc, key);
          }
        }
      }
    }
    if (w.metadata.name === 'kvbench-aggregator' && (w.spec.replicas !== 1 || w.spec.strategy?.type !== 'Recreate')) {
      fail(w.where, 'the aggregator owns one SQLite file: replicas 1 and strategy Recreate');
    }
    if (w.metadata.labels?.['app.kubernetes.io/name'] === 'kvbench-agent') {
      const label = pod.nodeSelector?.['kvbench.io/system'];
      const envLabel = pod.containers[0].env?.find((e) => e.name === 'SYSTEM_LABEL')?.value;
      if (!label || label !== envLabel) fail(w.where, `nodeSelector kvbench.io/system (${label}) must equal SYSTEM_LABEL (${envLabel})`);
      if (!pod.containers[0].resources?.limits?.['nvidia.com/gpu']) fail(w.where, 'agent requests no GPU (nvidia.com/gpu)');
    }
  }
  const agentLabels = workloads.filter((w) => w.metadata.labels?.['app.kubernetes.io/name'] === 'kvbench-agent').map((w) => w.spec.template.spec.nodeSelector?.['kvbench.io/system']);
  for (const need of ['pcie', 'c2c']) if (!agentLabels.includes(need)) fail('k8s/agents.yaml', `no agent for system ${need}`);
  for (const s of byKind('Service')) {
    const sel = s.spec?.selector ?? {};
    const targets = workloads.filter((w) => Object.entries(sel).every(([k, v]) => w.spec.template.metadata.labels?.[k] === v));
    if (!targets.length) fail(s.where, `selector ${JSON.stringify(sel)} matches no pod template`);
    for (const p of s.spec?.ports ?? []) {
      if (typeof p.targetPort !== 'string') continue;
      const ok = targets.some((w) => w.spec.template.spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === p.targetPort)));
      if (!ok) fail(s.where, `targetPort ${p.targetPort} is no named container port of its pods`);
    }
  }
  const sts = byKind('StatefulSet')[0];
  if (sts && !names('Service').has(sts.spec.serviceName)) fail(sts.where, `serviceName ${sts.spec.serviceName}: no such Service`);
  const cm = byKind('ConfigMap').find((m) => m.metadata.name === 'kvbench-env');
  const replicas = Number(cm?.data?.NATS_STREAM_REPLICAS);
  if (sts && replicas > sts.spec.replicas) fail(cm.where, `NATS_STREAM_REPLICAS ${replicas} exceeds the ${sts.spec.replicas} NATS nodes`);
  const urls = String(cm?.data?.NATS_URL ?? '').split(',').filter(Boolean);
  if (sts && urls.length !== sts.spec.replicas) fail(cm.where, `NATS_URL lists ${urls.length} servers for ${sts.spec.replicas} NATS nodes (clients reconnect only to listed ones they learn)`);
  say(`ok   k8s: ${objs.length} objects in ${files.length} files (${[...new Set(objs.map((o) => o.kind))].join(', ')})`);
}

// ---------------------------------------------------------------------------------------
// systemd example env files: every assignment (also commented-out ones) names a real variable.
function checkSystemdEnv() {
  const dir = join(deploy, 'systemd/env');
  const svcOf = { 'workload-api.env': 'workload-api', 'aggregator.env': 'aggregator', 'host-agent.env': 'host-agent' };
  let n = 0;
  for (const f of readdirSync(dir)) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const [i, line] of text.split('\n').entries()) {
      const m = /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line);
      if (!m) continue;
      n++;
      if (f === 'nats.env') {
        if (!/^(NATS_CONFIG|KVBENCH_NATS_(API|AGENT|AGGREGATOR)_PASSWORD)$/.test(m[1])) fail(`systemd/env/${f}:${i + 1}`, `${m[1]} is not used by kvbench-nats.service or users.conf`);
      } else if (svcOf[f]) checkEnvName(`systemd/env/${f}:${i + 1}`, svcOf[f], m[1]);
      else fail(`systemd/env/${f}`, 'no unit uses this file');
    }
  }
  for (const unit of readdirSync(join(deploy, 'systemd')).filter((f) => f.endsWith('.service'))) {
    const text = readFileSync(join(deploy, 'systemd', unit), 'utf8');
    for (const m of text.matchAll(/^EnvironmentFile=-?\/etc\/kvbench\/([\w.-]+?)(?:-%i)?\.env$/gm)) {
      if (!existsSync(join(dir, `${m[1]}.env`))) fail(`systemd/${unit}`, `no example env/${m[1]}.env`);
    }
    for (const m of text.matchAll(/\/opt\/kvbench\/(\S+\.js)/g)) {
      if (!existsSync(join(root, m[1].replace('/dist/src/', '/src/').replace(/\.js$/, '.ts')))) fail(`systemd/${unit}`, `${m[1]} has no source in the repository`);
    }
  }
  say(`ok   systemd env: ${n} assignments checked${env.names ? '' : ' (names not cross-checked: no build)'}`);
}

for (const [name, fn] of [['compose', checkCompose], ['dockerfile', checkDockerfile], ['k8s', checkK8s], ['systemd-env', checkSystemdEnv]]) {
  try {
    fn();
  } catch (err) {
    fail(name, `check crashed: ${err.stack}`);
  }
}
for (const p of problems) console.log(`FAIL ${p}`);
process.exit(problems.length ? 1 : 0);
