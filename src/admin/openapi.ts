/** The OpenAPI 3.1 document of the admin API, generated from the route definitions (zod 4 → JSON Schema). */
import { z } from 'zod';
import { ErrorBody, type AdminRouteDef } from './route.js';

type Json = Record<string, unknown>;

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): Json => {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Json;
  delete out.$schema;
  return out;
};

/** One OpenAPI parameter per property of an object schema (path or query). */
function parameters(schema: z.ZodType | undefined, location: 'path' | 'query'): Json[] {
  if (!schema) return [];
  const s = jsonSchema(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => {
    const { description, ...rest } = prop;
    return { name, in: location, required: location === 'path' || (s.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest };
  });
}

const ERRORS: Record<string, string> = {
  '400': 'Invalid input (`invalid_request`, with `param`).',
  '401': 'No valid admin credentials (`admin_unauthenticated`).',
  '403': 'The role may not do this (`admin_forbidden`), or a CSRF check failed (`csrf_failed`).',
  '404': 'No such object in the principal\'s scope (`not_found`).',
  '429': 'Too many failed authentications from this client (`too_many_auth_failures`).',
};

export function openApiDocument(routes: readonly AdminRouteDef[], options: { version: string; prefix: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const tags = new Set<string>();
  for (const r of routes) {
    const path = options.prefix + r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    tags.add(r.tag);
    const success: Json = { description: r.summary };
    if (r.stream) success.content = { [r.stream.contentType]: { schema: { type: 'string' } } };
    else if (r.response) success.content = { 'application/json': { schema: jsonSchema(r.response, 'output') } };
    const op: Json = {
      operationId: `${r.method.toLowerCase()}${r.path.replace(/[:/{}.-]+([a-z])?/gi, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [r.tag],
      'x-roles': [...r.roles],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } } : {}),
      responses: {
        [String(r.status ?? 200)]: success,
        ...Object.fromEntries(Object.entries(ERRORS).map(([code, description]) => [code, { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }])),
      },
    };
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'OmegaEngine Gateway admin API',
      version: options.version,
      description: 'Roles: admin (everything in its scope), reviewer (the review queue), auditor (read-only audit, spend, overview, health). `x-roles` on each operation lists the roles allowed. A tenant-scoped principal sees only its tenant: other tenants\' objects answer 404.',
    },
    servers: [{ url: '/' }],
    security: [{ adminToken: [] }, { session: [] }],
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: jsonSchema(ErrorBody, 'output') },
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'An admin token from `admin.tokens`.' },
        session: { type: 'apiKey', in: 'cookie', name: 'omega_session', description: 'A console session (writes also need the `x-csrf-token` header).' },
      },
    },
  };
}
