import { AuthError, CannotRunError, ConflictError, KvbenchError, LimitError, NotFoundError, ValidationError, BusError, StorageError } from '@kvbench/common';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** A LimitError about bytes (body, workload document): answered 413 rather than 400. */
export class SizeLimitError extends LimitError {}

/** The one error body every endpoint answers with. */
export const ErrorBody = z
  .object({
    error: z.string().describe('machine-readable code, e.g. VALIDATION_ERROR'),
    message: z.string().describe('what went wrong and, where there is one, the fix'),
    field: z.string().optional().describe('dotted path of the offending field; (root) for the body itself'),
    limit: z.number().optional().describe('the configured limit that was exceeded'),
    allowed: z.array(z.string()).optional().describe('the valid values, when the field takes one of a fixed set'),
    state: z.string().optional().describe('the current state that conflicts with the request (409)'),
    fix: z
      .object({
        field: z.string().describe('the field to change (dotted path in the request)'),
        value: z.union([z.number(), z.string()]).describe('the smallest value that works'),
      })
      .optional()
      .describe('422: the change that makes the run possible'),
  })
  .meta({ id: 'ErrorBody' });
export type ErrorBody = z.infer<typeof ErrorBody>;

export interface HttpError {
  status: number;
  body: ErrorBody;
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validationContext?: string;
}

/** Map any thrown error to a status and body. Unknown failures are 500 and must be logged by the caller. */
export function toHttpError(err: unknown, allowedFor: (field: string) => string[] | undefined = () => undefined): HttpError {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const first = err.validation[0]!;
    const field = zodIssueField(first.instancePath, first.params);
    const where = (err as FastifyLikeError).validationContext ?? 'body';
    const message = err.validation
      .slice(0, 3)
      .map((v) => `${zodIssueField(v.instancePath, v.params)}: ${v.message}`)
      .join('; ');
    return { status: 400, body: { error: 'VALIDATION_ERROR', message: `invalid ${where}: ${message}`, field } };
  }
  if (err instanceof CannotRunError) {
    return { status: 422, body: { error: 'CANNOT_RUN', message: err.message, field: err.field, ...(err.fix ? { fix: err.fix } : {}) } };
  }
  if (err instanceof ValidationError) {
    const allowed = allowedFor(err.field);
    return { status: 400, body: { error: err.code, message: err.message, field: err.field, ...(allowed ? { allowed } : {}) } };
  }
  if (err instanceof LimitError) {
    // Too many bytes is 413 (Payload Too Large); a parameter past its maximum is a bad request.
    const status = err instanceof SizeLimitError ? 413 : 400;
    return { status, body: { error: err.code, message: err.message, field: err.field, limit: err.limit } };
  }
  if (err instanceof NotFoundError) return { status: 404, body: { error: err.code, message: err.message } };
  if (err instanceof ConflictError) return { status: 409, body: { error: err.code, message: err.message, state: err.state } };
  if (err instanceof AuthError) return { status: err.status, body: { error: err.status === 401 ? 'UNAUTHORIZED' : 'FORBIDDEN', message: err.message } };
  // The bus being down is temporary: 503 tells a client to retry. A corrupt stored entry is not.
  if (err instanceof BusError) return { status: 503, body: { error: err.code, message: err.message } };
  if (err instanceof StorageError) return { status: 500, body: { error: err.code, message: err.message } };
  const fe = err as FastifyLikeError;
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: { error: 'LIMIT_EXCEEDED', message: 'request body is larger than MAX_BODY_BYTES', field: '(body)' } };
  }
  // Fastify's own client errors (malformed JSON, wrong content type, empty body...) keep their 4xx.
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { error: fe.code ?? 'BAD_REQUEST', message: fe.message ?? 'bad request', field: '(body)' } };
  }
  if (err instanceof KvbenchError) return { status: 500, body: { error: err.code, message: err.message } };
  return { status: 500, body: { error: 'INTERNAL_ERROR', message: 'internal error' } };
}

/** `/a/0/b` → `a.0.b`; an unrecognized key names the key itself, not its parent; an empty key shows as `""`. */
function zodIssueField(instancePath: string, params: Record<string, unknown> | undefined): string {
  const rest = instancePath.startsWith('/') ? instancePath.slice(1) : instancePath;
  const parts = rest === '' ? [] : rest.split('/');
  const keys = params?.['keys'];
  if (Array.isArray(keys) && keys.length > 0) parts.push(String(keys[0]));
  return parts.length ? parts.map((p) => (p === '' ? '""' : p)).join('.') : '(root)';
}
