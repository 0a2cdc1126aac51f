import { ScenarioTags, ValidationError, type ScenarioWorkload } from '@kvbench/common';
import { ScenarioBuilder } from './builder.js';

/**
 * Canonical JSON of a scenario document: fixed key order, one segment, prompt or request per line.
 * Same document, same bytes (the workload id hashes them).
 */
export function serializeScenarioParts(doc: ScenarioWorkload): string[] {
  const head = {
    schema: doc.schema,
    version: doc.version,
    kind: doc.kind,
    tokenizer: doc.tokenizer,
    token_space: { seed: doc.token_space.seed, low: doc.token_space.low, high: doc.token_space.high },
    params: doc.params,
    max_concurrency: doc.max_concurrency,
    sweep: doc.sweep === null ? null : { id: doc.sweep.id, point: doc.sweep.point },
  };
  const parts: string[] = [JSON.stringify(head).slice(0, -1)];
  const list = <T>(name: string, items: readonly T[], line: (x: T) => unknown) => {
    parts.push(`,\n"${name}":[\n`);
    items.forEach((x, i) => parts.push((i > 0 ? ',\n' : '') + JSON.stringify(line(x))));
    parts.push('\n]');
  };
  list('segments', doc.segments, (s) => ({ id: s.id, tokens: s.tokens }));
  list('prompts', doc.prompts, (p) => ({
    id: p.id,
    tokens: p.tokens,
    ...(p.prefix !== undefined ? { prefix: p.prefix } : {}),
    segments: p.segments.map((r) => (r.tokens === undefined ? { segment: r.segment } : { segment: r.segment, tokens: r.tokens })),
  }));
  list('requests', doc.requests, (r) => ({
    request_id: r.request_id,
    prompt_id: r.prompt_id,
    phase: r.phase,
    ...(r.output_tokens !== undefined ? { output_tokens: r.output_tokens } : {}),
    release: r.release.type === 'at' ? { type: 'at', at_ms: r.release.at_ms } : { type: 'after', request_id: r.release.request_id, delay_ms: r.release.delay_ms },
    tags: canonicalTags(r.tags),
  }));
  parts.push('}\n');
  return parts;
}

const TAG_KEYS = Object.keys(ScenarioTags.shape) as (keyof ScenarioTags)[];

/** Tags in the schema's key order, whatever order they were built or parsed in. */
function canonicalTags(t: ScenarioTags): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of TAG_KEYS) if (t[k] !== undefined) out[k] = t[k];
  return out;
}

function fail(field: string, message: string): never {
  throw new ValidationError(`invalid workload document: ${field}: ${message}`, field);
}

/**
 * What zod cannot see: ids unique and resolvable, segment lengths adding up, every `after` naming
 * an earlier request (so releases cannot wait on each other in a cycle), and phases and reusable
 * prefixes true to the prompts (recomputed).
 */
export function checkScenario(doc: ScenarioWorkload): void {
  const segments = new Map<string, number>();
  doc.segments.forEach((s, i) => {
    if (segments.has(s.id)) fail(`segments.${i}.id`, `duplicate segment id '${s.id}'`);
    segments.set(s.id, s.tokens);
  });
  const rebuilt = new ScenarioBuilder({ kind: doc.kind, params: doc.params, max_concurrency: doc.max_concurrency, token_space: doc.token_space });
  for (const s of doc.segments) rebuilt.segment(s.id, s.tokens);
  const prompts = new Map<string, ScenarioWorkload['prompts'][number]>();
  doc.prompts.forEach((p, i) => {
    if (prompts.has(p.id)) fail(`prompts.${i}.id`, `duplicate prompt id '${p.id}'`);
    let sum = 0;
    if (p.prefix !== undefined) {
      const before = prompts.get(p.prefix);
      if (!before) fail(`prompts.${i}.prefix`, `'${p.prefix}' is not an earlier prompt`);
      sum = before.tokens;
    }
    p.segments.forEach((r, j) => {
      const len = segments.get(r.segment);
      if (len === undefined) fail(`prompts.${i}.segments.${j}.segment`, `unknown segment '${r.segment}'`);
      if (r.tokens !== undefined && r.tokens > len) fail(`prompts.${i}.segments.${j}.tokens`, `${r.tokens} is more than segment '${r.segment}' holds (${len})`);
      sum += r.tokens ?? len;
    });
    if (sum !== p.tokens) fail(`prompts.${i}.tokens`, `says ${p.tokens} tokens, its segments hold ${sum}`);
    prompts.set(p.id, rebuilt.prompt(p.id, p.segments, p.prefix));
  });
  const seen = new Set<string>();
  doc.requests.forEach((r, i) => {
    const at = `requests.${i}`;
    if (seen.has(r.request_id)) fail(`${at}.request_id`, `duplicate request id '${r.request_id}'`);
    const prompt = prompts.get(r.prompt_id);
    if (!prompt) fail(`${at}.prompt_id`, `unknown prompt '${r.prompt_id}'`);
    if (r.release.type === 'after' && !seen.has(r.release.request_id)) fail(`${at}.release.request_id`, `'${r.release.request_id}' is not an earlier request`);
    if (r.tags.kind !== doc.kind) fail(`${at}.tags.kind`, `is '${r.tags.kind}' in a '${doc.kind}' workload`);
    seen.add(r.request_id);
    rebuilt.request({ request_id: r.request_id, prompt, release: r.release, tags: r.tags });
  });
  const expected = rebuilt.build().requests;
  doc.requests.forEach((r, i) => {
    const e = expected[i]!;
    if (r.phase !== e.phase) fail(`requests.${i}.phase`, `is '${r.phase}' but the prompt's reusable prefix makes it '${e.phase}'`);
    const rp = r.tags.reusable_prefix_tokens;
    if (rp !== undefined && rp !== e.tags.reusable_prefix_tokens) fail(`requests.${i}.tags.reusable_prefix_tokens`, `is ${rp}, the prompts give ${e.tags.reusable_prefix_tokens}`);
  });
}
