/**
 * /mcp/<server> and the federated /mcp: the MCP gateway's Streamable HTTP endpoints
 * (docs/mcp.md). The onRequest hook has authenticated the tenant key; a server the caller may not
 * use answers 404 like one that does not exist (at /mcp: a caller that may use none). The SDK
 * transport then speaks the protocol on the raw request and response.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { receiving } from '../edge/client-errors.js';
import { GatewayError } from '../errors.js';
import { checkJsonBounds } from '../surfaces/input-bounds.js';
import { mayUseServer } from '../mcp/grants.js';
import type { McpServerConfig } from '../config/schema.js';
import type { McpSessions } from '../mcp/sessions.js';

/** A JSON-RPC error on a plain HTTP answer (before any session exists). */
function rpcError(reply: FastifyReply, status: number, code: number, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/**
 * `servers`: the configured MCP servers; `loadSessions`: the session table, loaded (with the MCP
 * SDK) on the first request to one of them.
 */
export function mcpRoutes(app: FastifyInstance, servers: Record<string, McpServerConfig>, loadSessions: () => Promise<McpSessions>): void {
  app.route<{ Params: { server: string } }>({
    method: ['GET', 'POST', 'DELETE'],
    url: '/mcp/:server',
    handler: async (request, reply) => {
      const { server } = request.params;
      if (!mayUseServer(request.ctx!.principal!, server) || !Object.hasOwn(servers, server)) throw new GatewayError('unknown_endpoint', `Unknown MCP server "${server.slice(0, 64)}".`);
      await serve(request, reply, loadSessions, server);
    },
  });
  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: '/mcp',
    handler: async (request, reply) => {
      const principal = request.ctx!.principal!;
      if (!Object.keys(servers).some((s) => mayUseServer(principal, s))) throw new GatewayError('unknown_endpoint', 'Unknown MCP server: this key may use no MCP server.');
      await serve(request, reply, loadSessions, null);
    },
  });
}

/** One HTTP request of an MCP session at /mcp/<server> (or the federated /mcp when `server` is null). */
async function serve(request: FastifyRequest, reply: FastifyReply, loadSessions: () => Promise<McpSessions>, server: string | null): Promise<unknown> {
  const principal = request.ctx!.principal!;
  // Bounded before anything walks it (hashing, detectors), as on /v1.
  const violation = checkJsonBounds(request.body);
  if (violation) throw new GatewayError('invalid_request', violation.message, { param: violation.param });
  const [sessions, { isInitializeRequest }] = await Promise.all([loadSessions(), import('@modelcontextprotocol/sdk/types.js')]);
  const header = request.headers['mcp-session-id'];
  const sessionId = typeof header === 'string' ? header : undefined;
  let session = sessionId ? sessions.find(sessionId, server, principal) : undefined;
  if (sessionId && !session) return rpcError(reply, 404, -32001, 'Session not found');
  if (!session) {
    // Only an initialize opens a session (and an upstream connection).
    if (request.method !== 'POST' || !isInitializeRequest(request.body)) return rpcError(reply, 400, -32000, 'Bad Request: no valid session id');
    const userAgent = request.headers['user-agent']?.slice(0, 256) ?? null;
    try {
      session = server === null ? await sessions.openFederated(principal, request.ip, userAgent) : await sessions.open(server, principal, request.ip, userAgent);
    } catch (err) {
      request.log.warn({ err, server }, 'MCP upstream unreachable');
      throw new GatewayError('upstream_unreachable', `The MCP server "${server}" could not be reached.`);
    }
  }
  // From here the SDK transport owns the response (JSON or an SSE stream); a hijacked reply
  // skips onResponse, so the socket is no longer marked as receiving this request here.
  receiving.delete(request.raw.socket);
  reply.hijack();
  await session.transport.handleRequest(request.raw, reply.raw, request.body);
  // A transport that never got a session id (failed initialize) is dropped.
  if (!session.id) await session.close();
  return undefined;
}
