import fp from 'fastify-plugin';
import { presetNames } from '@kvbench/common';
import { toHttpError } from '../http-errors.js';

/**
 * One error shape for every route (ErrorBody): 400 naming the field, 401/403 for tokens, 404 for
 * unknown ids, 409 for a state conflict, 503 while the bus is down, 500 only for our own bugs (logged).
 */
export default fp(
  async (app) => {
    app.setErrorHandler((err, req, reply) => {
      const { status, body } = toHttpError(err, (field) => (field === 'config_module' ? presetNames() : undefined));
      if (status >= 500) req.log.error({ err }, 'request failed');
      else req.log.info({ status, error: body.error, field: body.field }, body.message);
      if (status === 401) reply.header('www-authenticate', 'Bearer realm="kvbench"');
      return reply.code(status).send(body);
    });
    app.setNotFoundHandler((req, reply) =>
      reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
    );
  },
  { name: 'errors' },
);
