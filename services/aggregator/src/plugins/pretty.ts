import fp from 'fastify-plugin';
import { indentJson, takePrettyFlag } from '@kvbench/common';

declare module 'fastify' {
  interface FastifyRequest {
    /** ?pretty=1: indent the JSON answer. */
    pretty?: boolean;
  }
}

/** `?pretty=1` on any JSON endpoint (PRETTY_PARAMETER in the OpenAPI document). */
export default fp(
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
