/**
 * Admin routes are declared, not hand-parsed: each names its method and path, the roles allowed,
 * zod schemas for params, query, body and response, and a summary. `AdminRouter` registers them
 * on Fastify (validating input, checking the role) and the same definitions produce the OpenAPI
 * document (admin/openapi.ts), so the documentation cannot drift from what is enforced.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GatewayError } from '../errors.js';
import type { AdminPrincipal, AdminRole } from './principal.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Every role: for routes any principal may call (GET /session). */
export const ANY_ROLE: readonly AdminRole[] = ['admin', 'reviewer', 'auditor'];
/** Read-only views of the whole gateway (audit, spend, overview, health). */
export const READERS: readonly AdminRole[] = ['admin', 'auditor'];
export const ADMINS: readonly AdminRole[] = ['admin'];

export interface AdminInput<P, Q, B> {
  principal: AdminPrincipal;
  params: P;
  query: Q;
  body: B;
  request: FastifyRequest;
  reply: FastifyReply;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface AdminRouteDef<PS extends z.ZodType | undefined = z.ZodType | undefined, QS extends z.ZodType | undefined = z.ZodType | undefined, BS extends z.ZodType | undefined = z.ZodType | undefined, RS extends z.ZodType | undefined = z.ZodType | undefined> {
  method: HttpMethod;
  /** Relative to /admin/v1, Fastify syntax (`/reviews/:id`). */
  path: string;
  summary: string;
  /** Longer text for the OpenAPI document. */
  description?: string;
  /** OpenAPI tag (the section of the document). */
  tag: string;
  roles: readonly AdminRole[];
  params?: PS;
  query?: QS;
  body?: BS;
  /** The JSON answered with 200 (documentation; `stream` routes describe their format in `description`). */
  response?: RS;
  /** Status of a successful answer (default 200). */
  status?: number;
  /** The handler writes the reply itself (SSE, streamed exports): the return value is ignored. */
  stream?: { contentType: string };
  handler: (input: AdminInput<Out<PS>, Out<QS>, Out<BS>>) => Promise<(RS extends z.ZodType ? z.input<RS> : unknown) | void>;
}

/** Declares a route with its types inferred from its schemas. */
export function defineRoute<PS extends z.ZodType | undefined = undefined, QS extends z.ZodType | undefined = undefined, BS extends z.ZodType | undefined = undefined, RS extends z.ZodType | undefined = undefined>(
  def: AdminRouteDef<PS, QS, BS, RS>,
): AdminRouteDef {
  return def as unknown as AdminRouteDef;
}

/** A zod failure as the catalog's 400, naming the field at fault as OpenAI's `param`. */
export function invalidInput(error: z.ZodError, where: 'params' | 'query' | 'body'): GatewayError {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const param = path || (where === 'body' ? 'body' : null);
  return new GatewayError('invalid_request', `${path ? `${path}: ` : where === 'body' ? 'The request body: ' : ''}${issue.message}`, { param });
}

function parse<S extends z.ZodType | undefined>(schema: S, value: unknown, where: 'params' | 'query' | 'body'): unknown {
  if (!schema) return value;
  const result = schema.safeParse(where === 'body' ? (value ?? {}) : value);
  if (!result.success) throw invalidInput(result.error, where);
  return result.data;
}

/** Collects route definitions, then registers them on an encapsulated Fastify instance. */
export class AdminRouter {
  readonly routes: AdminRouteDef[] = [];

  add(...defs: AdminRouteDef[]): void {
    for (const def of defs) {
      if (this.routes.some((r) => r.method === def.method && r.path === def.path)) throw new Error(`admin route ${def.method} ${def.path} defined twice`);
      this.routes.push(def);
    }
  }

  /** Registers every route on `app` (whose onRequest hook has set `request.admin`). */
  register(app: FastifyInstance): void {
    for (const def of this.routes) {
      app.route({
        method: def.method,
        url: def.path,
        handler: async (request, reply) => {
          const principal = request.admin;
          if (!def.roles.includes(principal.role)) throw new GatewayError('admin_forbidden', `The ${principal.role} role may not ${def.summary.charAt(0).toLowerCase()}${def.summary.slice(1).replace(/\.$/, '')}.`);
          const input = {
            principal,
            params: parse(def.params, request.params, 'params'),
            query: parse(def.query, request.query, 'query'),
            body: parse(def.body, request.body, 'body'),
            request,
            reply,
          };
          const result = await def.handler(input as never);
          if (def.stream) return reply;
          if (def.status) reply.code(def.status);
          return result;
        },
      });
    }
  }
}

// ---- Schemas shared by several routes.

/** A list query's page size: 1..500, default 50. */
export const Limit = z.coerce.number().int().min(1).max(500).default(50).describe('Items per page (1–500).');
export const Cursor = z.string().min(1).max(200).optional().describe('`next_cursor` of the previous page.');

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ object: z.literal('list'), data: z.array(item), next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last.') });

export const ErrorBody = z.object({
  error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string() }),
});
