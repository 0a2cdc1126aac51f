import fp from 'fastify-plugin';
import { NotFoundError, ValidationError } from '@kvbench/common';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

/**
 * One error shape for every route: 400 naming the field, 404 for unknown ids,
 * 500 only for our own bugs (logged).
 */
export default fp(
  async (app) => {
    app.setErrorHandler((err, req, reply) => {
      if (hasZodFastifySchemaValidationErrors(err)) {
        const issue = err.validation[0];
        const path = issue?.instancePath?.replace(/^\//, '').replaceAll('/', '.') ?? '';
        // field is relative to where it was given (`limit`, `id`), as ValidationError.field is.
        const field = path || '(root)';
        const where = err.validationContext ?? 'request';
        return reply.code(400).send({ error: 'VALIDATION_ERROR', message: `invalid ${where} field ${field}: ${issue?.message ?? 'invalid'}`, field });
      }
      if (err instanceof ValidationError) {
        return reply.code(400).send({ error: err.code, message: err.message, field: err.field });
      }
      if (err instanceof NotFoundError) return reply.code(404).send({ error: err.code, message: err.message });
      const e = err as { statusCode?: number; code?: string; message?: string };
      if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
        return reply.code(e.statusCode).send({ error: e.code ?? 'BAD_REQUEST', message: e.message ?? 'bad request' });
      }
      req.log.error({ err }, 'request failed');
      return reply.code(500).send({ error: 'INTERNAL', message: 'internal error' });
    });
    app.setNotFoundHandler((req, reply) =>
      reply.code(404).send({ error: 'NOT_FOUND', message: `route ${req.method} ${req.url.split('?')[0]} not found` }),
    );
  },
  { name: 'errors' },
);
