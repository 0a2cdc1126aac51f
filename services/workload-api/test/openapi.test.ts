import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openApiGaps } from '@kvbench/common';
import { apiForSuite } from './helpers.js';

type Json = Record<string, unknown>;

/** Every {"$ref": "#/..."} in `node`. */
function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

function resolve(doc: Json, ref: string): Json | undefined {
  assert.ok(ref.startsWith('#/'), ref);
  let node: unknown = doc;
  for (const part of ref.slice(2).split('/')) node = (node as Json | undefined)?.[part];
  return node as Json | undefined;
}

/** The schema itself, following one $ref. */
function deref(doc: Json, schema: Json): Json {
  return typeof schema.$ref === 'string' ? resolve(doc, schema.$ref)! : schema;
}

describe('OpenAPI', () => {
  const api = apiForSuite();
  let doc: Json;
  before(async () => {
    const res = await api.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    doc = res.json();
  });

  it('lists every route', () => {
    assert.match(String(doc.openapi), /^3\.1\./);
    const paths = doc.paths as Record<string, Json>;
    assert.deepEqual(Object.keys(paths['/workloads']!), ['post']);
    assert.deepEqual(Object.keys(paths['/workloads/{id}']!), ['get']);
    assert.deepEqual(Object.keys(paths['/runs']!).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(paths['/runs/{id}']!), ['get']);
    assert.ok(paths['/health']?.get);
    assert.ok(paths['/presets']?.get);
  });

  it('describes request bodies from the zod schemas', () => {
    const body = (path: string) => {
      const op = (doc.paths as Record<string, Record<string, Json>>)[path]!.post!;
      const content = (op.requestBody as Json).content as Record<string, Json>;
      return deref(doc, content['application/json']!.schema as Json);
    };
    const run = body('/runs');
    assert.deepEqual([...(run.required as string[])].sort(), ['model', 'system_label', 'workload_id']);
    const props = run.properties as Record<string, Json>;
    for (const key of ['engine', 'config_module', 'overrides', 'max_batch_size', 'max_seq_len', 'output_tokens', 'temperature', 'top_p', 'notes']) {
      assert.ok(props[key], key);
    }
    assert.equal(props.system_label!.pattern, '^[a-z0-9][a-z0-9_-]{0,31}$');
    assert.equal(run.additionalProperties, false);
    const workload = body('/workloads');
    const params = deref(doc, (workload.properties as Record<string, Json>).params!);
    assert.ok((params.properties as Json).prompt_pool_size);
    const document = (workload.properties as Record<string, Json>).document!;
    // Every accepted format is described: the native document (the original batches, version 1,
    // and a scenario of token ids, version 2) and the original list of batches.
    const formats = document.anyOf as Json[];
    assert.equal(formats.length, 3);
    assert.ok(((formats[0]!.properties as Json).schema as Json).const === 'kvbench.workload');
    assert.equal(((formats[1]!.properties as Json).version as Json).const, 2);
    assert.match(JSON.stringify(formats[2]), /batch_prompts/);
    // Scenario parameters are described by kind.
    assert.match(JSON.stringify((workload.properties as Record<string, Json>).scenario), /multiturn/);
  });

  it('marks mutating routes as needing a bearer token', () => {
    const paths = doc.paths as Record<string, Record<string, Json>>;
    assert.deepEqual(paths['/runs']!.post!.security, [{ bearerAuth: [] }]);
    assert.deepEqual(paths['/workloads']!.post!.security, [{ bearerAuth: [] }]);
    assert.equal(((doc.components as Json).securitySchemes as Record<string, Json>).bearerAuth!.scheme, 'bearer');
  });

  it('has no dangling $ref', () => {
    const all = refs(doc);
    assert.ok(all.length > 0);
    for (const ref of all) assert.ok(resolve(doc, ref), `unresolved ${ref}`);
  });

  it('describes every field, parameter and response, with an example for every body and response', () => {
    assert.deepEqual(openApiGaps(doc), []);
    const paths = doc.paths as Record<string, Record<string, Json>>;
    const created = (paths['/runs']!.post!.responses as Record<string, Json>)['422']!;
    assert.match(String(created.description), /field.*value that works/);
  });

  it("runs its own examples: the workload example creates the workload the run example names", async () => {
    const paths = doc.paths as Record<string, Record<string, Json>>;
    const example = (path: string) => (((paths[path]!.post!.requestBody as Json).content as Record<string, Json>)['application/json']!.example as Json);
    const created = await api.app.inject({ method: 'POST', url: '/workloads', payload: example('/workloads') });
    assert.equal(created.statusCode, 201, created.body);
    const run = example('/runs');
    assert.equal(created.json().id, run.workload_id);
    const accepted = await api.app.inject({ method: 'POST', url: '/runs', payload: run });
    assert.equal(accepted.statusCode, 202, accepted.body);
    // The summary example is the real summary of that workload.
    const summary = (((paths['/workloads']!.post!.responses as Record<string, Json>)['201']!.content as Record<string, Json>)['application/json']!.example);
    assert.deepEqual(created.json(), summary);
  });

  it('answers ?pretty=1 with the same JSON indented, on strict queries too, and documents the parameter', async () => {
    for (const url of ['/presets', '/runs', '/runs?limit=5']) {
      const plain = await api.app.inject({ url });
      const pretty = await api.app.inject({ url: `${url}${url.includes('?') ? '&' : '?'}pretty=1` });
      assert.equal(pretty.statusCode, 200, pretty.body);
      assert.deepEqual(pretty.json(), plain.json());
      assert.match(pretty.body, /^\{\n  "/);
      assert.doesNotMatch(plain.body, /\n/);
    }
    const paths = doc.paths as Record<string, Record<string, Json>>;
    assert.ok((paths['/runs']!.get!.parameters as Json[]).some((p) => p.name === 'pretty'));
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    assert.match(res.body, /swagger/i);
  });
});
