import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { KvbenchError, NotFoundError, ValidationError } from '@kvbench/common';
import { PROBE_EXIT, buildProfile, parseProbeRawText, profileJson, runProbe, summarizeLinkCheck } from '@kvbench/probe';
import { parseFlags, usage, type FlagSpecs } from '../args.js';
import type { Command } from '../command.js';

const flags: FlagSpecs = {
  out: { type: 'string', help: 'write the simulator profile here (default: print it on stdout)' },
  raw: { type: 'string', help: 'keep the raw measurements and environment (probe JSON) here' },
  model_shape: { type: 'string[]', default: ['llama-3.1-8b', 'llama-3-70b'], help: 'model shapes for KV block sizes and compute (llama-3.1-8b, llama-3-70b, qwen3-8b, or name:layers=..,hidden=..,heads=..,kv_heads=..,head_dim=..,ffn=..,vocab=..)' },
  tokens_per_block: { type: 'int', default: 64, help: 'KV tokens per block (sets the block sizes copied)' },
  quick: { type: 'bool', default: false, help: 'link check only (< 20 s): a few pinned sizes and the block sizes of the first shape; prints a summary, builds no profile' },
  name: { type: 'string', help: 'profile name (default: the --out file name without .json, else "local-gpu")' },
  system: { type: 'string', help: 'system label the profile stands for (e.g. pcie)' },
  from_raw: { type: 'string', help: 'build the profile from earlier probe output instead of running the probe' },
  python: { type: 'string', default: 'python3', help: 'Python interpreter with PyTorch' },
};

const SUMMARY = 'measure this machine\'s GPU link and compute with PyTorch and write a simulator hardware profile';

export const probeCommand: Command = {
  names: [['probe']],
  summary: SUMMARY,
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(usage('probe', SUMMARY, flags));
      return 0;
    }
    const { flags: f, positionals } = parseFlags(argv, flags);
    if (positionals.length) throw new ValidationError(`unexpected argument '${positionals[0]}'`, positionals[0]!);
    const out = f.out as string | undefined;
    const quick = f.quick === true;
    if (quick && out) throw new ValidationError('--quick checks the link only and builds no profile: drop --out (use --raw to keep the measurements)', 'out');
    if (quick && f.from_raw) throw new ValidationError('--quick runs the probe; --from_raw builds from earlier output: pick one', 'from_raw');

    let rawText: string;
    let rawPath = (f.from_raw ?? f.raw) as string | undefined;
    if (f.from_raw) {
      rawText = await readText(f.from_raw as string);
    } else {
      const tmp = rawPath ? undefined : await mkdtemp(join(tmpdir(), 'kvbench-probe-'));
      rawPath ??= join(tmp!, 'raw.json');
      try {
        const args = ['--out', rawPath, '--model_shape', ...(f.model_shape as string[]), '--tokens_per_block', String(f.tokens_per_block)];
        if (quick) args.push('--quick');
        const t0 = performance.now();
        const r = await runProbe(args, { python: f.python as string, onStderr: (d) => process.stderr.write(d) });
        if (r.spawnError) throw new KvbenchError(`could not start ${f.python as string}: ${r.spawnError.message}`, { cause: r.spawnError });
        if (r.code === PROBE_EXIT.noTorch || r.code === PROBE_EXIT.noCuda) return r.code; // the probe said why on stderr
        if (r.code !== 0) throw new KvbenchError(`the probe exited with ${r.code ?? r.signal}`);
        rawText = await readText(rawPath);
        if (quick) {
          const raw = parseProbeRawText(rawText, rawPath);
          const at = raw.started_at;
          console.log(JSON.stringify(summarizeLinkCheck(raw, at, (performance.now() - t0) / 1e3), null, 2));
          if (f.raw) console.error(`wrote ${rawPath}`);
          return 0;
        }
      } finally {
        if (tmp) await rm(tmp, { recursive: true, force: true });
      }
      if (f.raw) console.error(`wrote ${rawPath}`);
    }

    const raw = parseProbeRawText(rawText, rawPath);
    const name = (f.name as string | undefined) ?? (out ? basename(out).replace(/\.json$/, '') : 'local-gpu');
    const built = buildProfile(raw, {
      name,
      ...(f.system ? { system: f.system as string } : {}),
      rawSource: f.raw || f.from_raw ? rawPath! : 'probe output (not kept: pass --raw)',
    });
    for (const w of built.warnings) console.error(`kvbench probe: ${w}`);
    const text = profileJson(built.profile);
    if (out) {
      await writeFile(out, text).catch((err: NodeJS.ErrnoException) => {
        throw new KvbenchError(`cannot write ${out}: ${err.code ?? err.message}`, { cause: err });
      });
      console.error(`wrote ${out} (profile '${name}'; load it with --profile ${out})`);
    } else {
      process.stdout.write(text);
    }
    return 0;
  },
};

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError('probe output', path, { cause: err });
    throw err;
  }
}
