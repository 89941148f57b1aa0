/**
 * The federated MCP server at /mcp: one virtual server per caller that serves every MCP server
 * the caller may use, each tool named `<server>__<tool>` (e.g. `bank__transfer_funds`). Lists are
 * the union of the upstream lists, filtered by the caller's grants; a call is routed to its
 * server and runs through the same pipeline as at /mcp/<server> (runToolCall). Upstream sessions
 * are opened when first needed, one per server, and closed with the federated session.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../auth/directory.js';
import type { McpServerConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { runToolCall, type ToolCallDeps } from '../pipeline/tool-call.js';
import { mayCallTool } from './grants.js';
import { toolPrice } from './prices.js';
import { connectUpstream, invokeUpstream } from './upstream.js';

/** Between the server's name and the tool's in a federated tool name. */
export const NAMESPACE_SEPARATOR = '__';
/** Pages of one upstream's tools/list read for a federated list (a server listing more is cut). */
const MAX_LIST_PAGES = 20;

export interface FederationLog {
  warn(obj: object, msg: string): void;
}

/** The upstream sessions of one federated session, opened on first use. */
export class FederatedUpstreams {
  private readonly clients = new Map<string, Promise<Client>>();

  constructor(
    private readonly configs: Record<string, McpServerConfig>,
    /** The servers the caller may use, longest names first (see `resolve`). */
    readonly servers: string[],
    private readonly version: string,
  ) {
    this.servers = [...servers].sort((a, b) => b.length - a.length);
  }

  /** The upstream session of `server`; a failed connection is retried on the next use. */
  client(server: string): Promise<Client> {
    let client = this.clients.get(server);
    if (!client) {
      client = connectUpstream(server, this.configs[server]!, this.version);
      client.catch(() => this.clients.delete(server));
      this.clients.set(server, client);
    }
    return client;
  }

  timeout(server: string): number {
    return this.configs[server]!.timeout;
  }

  price(server: string, tool: string): number {
    return toolPrice(this.configs[server]!, tool);
  }

  /**
   * `<server>__<tool>` → its server and tool, for a server of this session. Server names may
   * hold `__` themselves: the longest server name that fits wins.
   */
  resolve(name: string): { server: string; tool: string } | undefined {
    for (const server of this.servers) {
      const prefix = server + NAMESPACE_SEPARATOR;
      if (name.startsWith(prefix) && name.length > prefix.length) return { server, tool: name.slice(prefix.length) };
    }
    return undefined;
  }

  async close(): Promise<void> {
    const open = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(open.map(async (c) => (await c).close()));
  }
}

export interface FederationContext {
  deps: ToolCallDeps;
  clientIp: string;
  userAgent: string | null;
  log: FederationLog;
}

export function registerFederatedHandlers(mcp: Server, upstreams: FederatedUpstreams, principal: Principal, fed: FederationContext): void {
  mcp.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => {
    // One list, unpaged: every server's tools the caller may call, namespaced. A server that
    // cannot be reached is left out of this answer (and logged), not the whole list.
    const lists = await Promise.all(
      upstreams.servers.map(async (server) => {
        try {
          return await listAll(await upstreams.client(server), server, principal, upstreams.timeout(server), extra.signal);
        } catch (err) {
          fed.log.warn({ err, server }, 'federated MCP: a server could not be listed');
          return [];
        }
      }),
    );
    return { tools: lists.flat().sort((a, b) => a.name.localeCompare(b.name)) };
  });

  mcp.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args = {} } = request.params;
    const target = upstreams.resolve(name);
    // Same answer as for a tool that does not exist: a denied server or tool is invisible.
    if (!target || !mayCallTool(principal, target.server, target.tool)) throw new McpError(ErrorCode.InvalidParams, `Tool ${name} not found`);
    const { server, tool } = target;
    const call = { principal, server, tool, args, priceUsd: upstreams.price(server, tool), endpoint: '/mcp', requestId: `req_${randomUUID().replaceAll('-', '')}`, clientIp: fed.clientIp, userAgent: fed.userAgent, signal: extra.signal };
    const invoke = async (forwarded: Record<string, unknown>, signal: AbortSignal) => {
      let client: Client;
      try {
        client = await upstreams.client(server);
      } catch (err) {
        throw new GatewayError('upstream_unreachable', `The MCP server "${server}" could not be reached.`, { cause: err });
      }
      return invokeUpstream(client, server, tool, upstreams.timeout(server))(forwarded, signal);
    };
    return (await runToolCall(fed.deps, call, invoke)) as never;
  });
}

/** Every page of one server's tools the caller may call, renamed `<server>__<tool>`. */
async function listAll(client: Client, server: string, principal: Principal, timeout: number, signal: AbortSignal): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_LIST_PAGES; page++) {
    const listed = await client.listTools(cursor ? { cursor } : undefined, { signal, timeout });
    for (const t of listed.tools) if (mayCallTool(principal, server, t.name)) tools.push({ ...t, name: `${server}${NAMESPACE_SEPARATOR}${t.name}` });
    cursor = listed.nextCursor;
    if (!cursor) break;
  }
  return tools;
}
