import fp from 'fastify-plugin';
import { indentJson, takePrettyFlag } from '@kvbench/common';

declare module 'fastify' {
  interface FastifyRequest {
    /** ?pretty=1: indent the JSON answer. */
    pretty?: boolean;
  }
}

/**
 * `?pretty=1` on any JSON endpoint of a kvbench service (PRETTY_PARAMETER in the OpenAPI document):
 * registered once per service, before its routes. It lives here, beside the rest of a service
 * process's own machinery, because both HTTP services use it and libs/common carries no fastify.
 */
export const prettyJsonPlugin = fp(
  async (app) => {
    app.addHook('preValidation', async (req) => {
      if (takePrettyFlag(req.query)) req.pretty = true;
    });
    app.addHook('onSend', async (req, reply, payload) => {
      if (!req.pretty || !/^application\/json/.test(String(reply.getHeader('content-type') ?? ''))) return payload;
      return indentJson(payload);
    });
  },
  { name: 'pretty' },
);
