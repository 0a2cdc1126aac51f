import fp from 'fastify-plugin';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { polishOpenApi, SWAGGER_UI_CONFIG } from '@kvbench/common';

export interface ApiDocsOptions {
  /** The document's `info`, as the service words it (title, description, version). */
  info: { title: string; description: string; version: string };
  /** What the bearer token is, shown beside Swagger UI's Authorize button; none: no description. */
  bearerDescription?: string;
  /** Every read needs the token too: the reads document their 401 (see polishOpenApi). */
  readsRequireToken: boolean;
}

/**
 * A kvbench service's API description, made from the zod schemas of its routes: OpenAPI 3.1 at
 * `/openapi.json` (hidden from itself) and Swagger UI at `/docs`. The bearer scheme is always
 * declared, so Swagger UI shows its Authorize button; an open service's operations stay usable
 * without one. Registered once per service, before its routes (it collects them as they are added).
 * It lives here, beside prettyJsonPlugin, because both HTTP services use it and libs/common carries
 * no fastify.
 */
export const apiDocsPlugin = fp<ApiDocsOptions>(
  async (app, { info, bearerDescription, readsRequireToken }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info,
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', ...(bearerDescription === undefined ? {} : { description: bearerDescription }) },
          },
        },
      },
      transform: jsonSchemaTransform,
      // Named components that resolve, examples, response descriptions: see polishOpenApi.
      transformObject: (doc) => polishOpenApi(jsonSchemaTransformObject(doc), { bearerScheme: 'bearerAuth', readsRequireToken }),
    });
    await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { ...SWAGGER_UI_CONFIG } });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'api-docs' },
);
