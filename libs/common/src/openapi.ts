/**
 * The last step of both services' OpenAPI documents (a pure function on the JSON, so libs/common
 * needs no fastify). What it fixes, and why:
 *
 * - zod's JSON Schema carries `$schema` and `$id` on every named schema. In an OpenAPI 3.1
 *   document an `$id` of `#/components/schemas/X` re-bases every `$ref` inside it, so Swagger UI
 *   could not resolve `$ref=#/components/schemas/CreateWorkloadInput` and fell back to the literal
 *   example `"string"`. Both keywords are dropped.
 * - `z.number().int()` states ±Number.MAX_SAFE_INTEGER bounds, which Swagger UI then shows as
 *   example counts of 9007199254740991. They say nothing a reader needs: dropped.
 * - A schema's first `examples` entry (written with `.meta({ examples })` on the zod schema, next
 *   to validation) becomes its media type's `example`, which Swagger UI shows and "Try it out" sends.
 * - Every response gets a description saying what the status means, never "Default Response".
 */

type Json = Record<string, unknown>;

const SAFE = Number.MAX_SAFE_INTEGER;

/** What each status means on kvbench's services; an operation may override it in its schema. */
export const STATUS_DESCRIPTIONS: Readonly<Record<string, string>> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted: queued or in progress; poll the status URL',
  '204': 'No content',
  '400': 'Invalid input: `field` names the offending field (dotted path), `message` says what is wrong',
  '401': 'Missing or invalid bearer token: send the header Authorization: Bearer followed by the token (Authorize button)',
  '403': 'The token is valid but not allowed this operation (a read-only token on a write)',
  '404': 'No such resource (unknown id or route)',
  '409': 'Conflicts with the current state (`state` says which)',
  '413': 'Body or document larger than the configured limit (`limit`)',
  '422': 'Well-formed but cannot run as given: `field` names what to change and `message` gives the value that works',
  '500': 'Internal error (logged on the server)',
  '503': 'A dependency (NATS, storage) is unavailable right now: retry later',
};

/** The `error` code each status answers with (ErrorBody), for the example of an error response. */
const ERROR_CODES: Readonly<Record<string, string>> = {
  '400': 'VALIDATION_ERROR',
  '401': 'UNAUTHORIZED',
  '403': 'FORBIDDEN',
  '404': 'NOT_FOUND',
  '409': 'CONFLICT',
  '413': 'LIMIT_EXCEEDED',
  '422': 'CANNOT_RUN',
  '500': 'INTERNAL_ERROR',
  '503': 'BUS_ERROR',
};

function strip(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strip);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === '$schema' || k === '$id') continue;
    if (k === 'maximum' && v === SAFE) continue;
    if (k === 'minimum' && v === -SAFE) continue;
    // Keys of `properties` are field names, not keywords: recurse into each value only.
    if (k === 'properties' && v && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v as Json).map(([name, s]) => [name, strip(s)]));
      continue;
    }
    out[k] = strip(v);
  }
  return out;
}

function resolveRef(doc: Json, schema: Json | undefined): Json | undefined {
  let s = schema;
  for (let i = 0; i < 5 && s && typeof s.$ref === 'string' && s.$ref.startsWith('#/'); i++) {
    let node: unknown = doc;
    for (const part of s.$ref.slice(2).split('/')) node = (node as Json | undefined)?.[part];
    s = node as Json | undefined;
  }
  return s;
}

function exampleOf(doc: Json, schema: Json | undefined): unknown {
  const s = resolveRef(doc, schema);
  if (!s) return undefined;
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  if ('example' in s) return s.example;
  return undefined;
}

function withMediaExamples(doc: Json, content: unknown): void {
  if (!content || typeof content !== 'object') return;
  for (const media of Object.values(content as Record<string, Json>)) {
    if (!media || 'example' in media || 'examples' in media) continue;
    const ex = exampleOf(doc, media.schema as Json | undefined);
    if (ex !== undefined) media.example = ex;
  }
}

/** An error response without its own example gets one built from its status. */
function errorExample(doc: Json, code: string, content: unknown): void {
  const media = (content as Record<string, Json> | undefined)?.['application/json'];
  const errorCode = ERROR_CODES[code];
  if (!media || !errorCode || 'example' in media) return;
  const props = resolveRef(doc, media.schema as Json | undefined)?.properties as Json | undefined;
  if (!props || !('error' in props) || !('message' in props)) return;
  media.example = { error: errorCode, message: STATUS_DESCRIPTIONS[code], ...(code === '400' ? { field: 'workload_id' } : {}) };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

export interface PolishOptions {
  /**
   * The bearer scheme's name in components.securitySchemes. Every operation without its own
   * `security` gets one (Swagger UI sends an Authorize token only to operations that declare it),
   * and every operation not declared public (`security: []`) documents its 401.
   */
  bearerScheme?: string;
  /** Reads need the token on this server: required, not optional, on operations without their own `security`. */
  readsRequireToken?: boolean;
}

/** Returns a new document; `doc` is left as it was. */
export function polishOpenApi<T extends object>(input: T, options: PolishOptions = {}): T {
  const doc = strip(input) as Json;
  const scheme = options.bearerScheme;
  const errorRef = ((doc.components as Json | undefined)?.schemas as Json | undefined)?.ErrorBody ? { $ref: '#/components/schemas/ErrorBody' } : undefined;
  for (const item of Object.values((doc.paths ?? {}) as Record<string, Json>)) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      if (scheme) {
        // {} first: with no token configured the operation runs without one.
        if (!op.security) op.security = options.readsRequireToken ? [{ [scheme]: [] }] : [{}, { [scheme]: [] }];
        const responses = (op.responses ??= {}) as Record<string, Json>;
        if ((op.security as unknown[]).length > 0 && !responses['401']) {
          responses['401'] = { description: STATUS_DESCRIPTIONS['401'], ...(errorRef ? { content: { 'application/json': { schema: errorRef } } } : {}) };
        }
      }
      const body = op.requestBody as Json | undefined;
      if (body) withMediaExamples(doc, body.content);
      for (const [code, res] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
        if (!res.description || res.description === 'Default Response') {
          res.description = STATUS_DESCRIPTIONS[code] ?? `HTTP ${code}`;
        }
        withMediaExamples(doc, res.content);
        errorExample(doc, code, res.content);
      }
      const answersJson = Object.values((op.responses ?? {}) as Record<string, Json>).some((r) => (r.content as Json | undefined)?.['application/json']);
      if (method === 'get' && answersJson) op.parameters = [...((op.parameters ?? []) as Json[]), { ...PRETTY_PARAMETER }];
      for (const p of (op.parameters ?? []) as Json[]) {
        const s = p.schema as Json | undefined;
        if (!p.description && typeof s?.description === 'string') p.description = s.description;
        if (p.example === undefined) {
          const ex = exampleOf(doc, s);
          if (ex !== undefined) p.example = ex;
        }
      }
    }
  }
  return doc as T;
}

/** Every field of `schema` (following $refs) that has no description: `where.path.to.field`. */
export function undescribedFields(doc: Json, schema: unknown, where: string, out: string[] = [], seen = new Set<unknown>()): string[] {
  const s = resolveRef(doc, schema as Json | undefined);
  if (!s || typeof s !== 'object' || seen.has(s)) return out;
  seen.add(s);
  for (const [name, prop] of Object.entries((s.properties ?? {}) as Record<string, Json>)) {
    const target = resolveRef(doc, prop) ?? prop;
    if (typeof prop.description !== 'string' && typeof target.description !== 'string') out.push(`${where}.${name}`);
    undescribedFields(doc, prop, `${where}.${name}`, out, seen);
  }
  for (const key of ['items', 'additionalProperties']) {
    if (s[key] && typeof s[key] === 'object') undescribedFields(doc, s[key], `${where}[]`, out, seen);
  }
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    for (const sub of (s[key] ?? []) as unknown[]) undescribedFields(doc, sub, where, out, seen);
  }
  return out;
}

/**
 * What a reader of the document would miss, one line each: a parameter or field without a
 * description, a JSON body or response without an example, a leftover `$id`/`$schema` or
 * safe-integer bound. Both services' tests assert it is empty.
 */
export function openApiGaps(doc: Json): string[] {
  const gaps: string[] = [];
  const text = JSON.stringify(doc);
  if (text.includes('"$id"') || text.includes('"$schema"')) gaps.push('a schema keeps $id or $schema');
  if (text.includes(String(SAFE))) gaps.push(`a schema keeps the bound ${SAFE}`);
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
    for (const method of METHODS) {
      const op = item[method] as Json | undefined;
      if (!op) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (!op.summary) gaps.push(`${where}: no summary`);
      for (const p of (op.parameters ?? []) as Json[]) if (!p.description) gaps.push(`${where}: parameter ${String(p.name)} has no description`);
      const body = ((op.requestBody as Json | undefined)?.content as Record<string, Json> | undefined)?.['application/json'];
      if (body) {
        undescribedFields(doc, body.schema, `${where} body`).forEach((f) => gaps.push(`${f}: no description`));
        if (body.example === undefined) gaps.push(`${where} body: no example`);
      }
      for (const [code, res] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
        if (!res.description || res.description === 'Default Response') gaps.push(`${where} ${code}: no description`);
        const media = (res.content as Record<string, Json> | undefined)?.['application/json'];
        if (!media) continue;
        undescribedFields(doc, media.schema, `${where} ${code}`).forEach((f) => gaps.push(`${f}: no description`));
        if (media.example === undefined) gaps.push(`${where} ${code}: no example`);
      }
    }
  }
  return gaps;
}

/**
 * Swagger UI settings both services use (@fastify/swagger-ui `uiConfig`). Highlighting is off:
 * Swagger UI's highlighter takes seconds on a 28 KB /compare answer, and the page stays responsive
 * without it. Try it out is on, so a person runs the shown example with one click less.
 */
export const SWAGGER_UI_CONFIG = {
  syntaxHighlight: false,
  tryItOutEnabled: true,
  displayRequestDuration: true,
  defaultModelsExpandDepth: 0,
} as const;

/**
 * `?pretty=1` (or `true`) on a JSON endpoint: the same answer indented for a person reading it in a
 * browser or terminal. The services take the parameter off the query before validation (so strict
 * query schemas need not list it) and re-indent the serialized JSON on its way out.
 */
export const PRETTY_PARAMETER = {
  name: 'pretty',
  in: 'query',
  required: false,
  description: '1 or true: indent the JSON answer for reading (the same content)',
  schema: { type: 'string', enum: ['1', 'true'] },
} as const;

/** Removes `pretty` from a parsed query; true when it asked for indentation. */
export function takePrettyFlag(query: unknown): boolean {
  if (!query || typeof query !== 'object' || !('pretty' in query)) return false;
  const q = query as Record<string, unknown>;
  const v = q.pretty;
  delete q.pretty;
  return v === '1' || v === 'true' || v === '';
}

/** The serialized JSON payload, indented; anything that is not JSON text is returned as it was. */
export function indentJson(payload: unknown): unknown {
  if (typeof payload !== 'string') return payload;
  try {
    return `${JSON.stringify(JSON.parse(payload), null, 2)}\n`;
  } catch {
    return payload;
  }
}
