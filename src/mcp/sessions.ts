/**
 * Downstream MCP sessions: at /mcp/<server> each is an SDK server transport with its own session
 * id, bound to the key that opened it and to one upstream session (an SDK Client). At /mcp a
 * federated session serves every server the caller may use as one, tools named
 * `<server>__<tool>` (federation.ts), with one upstream session per server opened on first use.
 * `tools/list` is filtered by the caller's grants; `tools/call` runs through runToolCall. A tool
 * the caller may not call gets the same answer as a tool that does not exist.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../auth/directory.js';
import type { McpServerConfig } from '../config/schema.js';
import { runToolCall, type ToolCallDeps } from '../pipeline/tool-call.js';
import { FederatedUpstreams, registerFederatedHandlers, type FederationLog } from './federation.js';
import { mayCallTool, mayUseServer } from './grants.js';
import { toolPrice } from './prices.js';
import { connectUpstream, invokeUpstream } from './upstream.js';

export interface McpSession {
  id: string | undefined;
  /** The upstream server; null for the federated session at /mcp. */
  server: string | null;
  keyId: string;
  transport: StreamableHTTPServerTransport;
  lastUsed: number;
  close(): Promise<void>;
}

/** An idle session is closed (and its upstream session with it) after this long. */
const IDLE_MS = 30 * 60_000;

export class McpSessions {
  private readonly sessions = new Map<string, McpSession>();
  private readonly sweep: ReturnType<typeof setInterval>;
  /** Tool calls running now (also in the gateway's in-flight set): closing waits for them. */
  private readonly calls = new Set<AbortController>();
  private readonly deps: ToolCallDeps;

  constructor(
    private readonly servers: Record<string, McpServerConfig>,
    deps: ToolCallDeps,
    private readonly version: string,
    private readonly log: FederationLog = { warn: () => undefined },
  ) {
    const calls = this.calls;
    this.deps = {
      ...deps,
      inFlight: {
        add: (a) => (calls.add(a), deps.inFlight.add(a)),
        delete: (a) => (deps.inFlight.delete(a), calls.delete(a)),
      },
    };
    this.sweep = setInterval(() => {
      const cutoff = Date.now() - IDLE_MS;
      for (const s of [...this.sessions.values()]) if (s.lastUsed < cutoff) void s.close();
    }, 60_000);
    this.sweep.unref();
  }

  /** True when the deployment file configures this MCP server. */
  has(server: string): boolean {
    return Object.hasOwn(this.servers, server);
  }

  /** The servers `principal` may use, for the federated endpoint (none: it does not exist for them). */
  serversFor(principal: Principal): string[] {
    return Object.keys(this.servers).filter((s) => mayUseServer(principal, s));
  }

  /** The session with this id, when it belongs to this server (null: federated) and this key (else it does not exist for the caller). */
  find(id: string, server: string | null, principal: Principal): McpSession | undefined {
    const s = this.sessions.get(id);
    if (!s || s.server !== server || s.keyId !== principal.keyId) return undefined;
    s.lastUsed = Date.now();
    return s;
  }

  /** Opens the upstream session, then a downstream transport whose id is registered once initialize succeeds. */
  async open(server: string, principal: Principal, clientIp: string, userAgent: string | null): Promise<McpSession> {
    const upstream = await connectUpstream(server, this.servers[server]!, this.version);
    const timeout = this.servers[server]!.timeout;
    const mcp = new Server({ name: `omega/${server}`, version: this.version }, { capabilities: { tools: {} }, instructions: upstream.getInstructions() });
    const session = this.session(server, principal, mcp, () => upstream.close());
    registerHandlers(mcp, upstream, server, this.servers[server]!, principal, timeout, this.deps, clientIp, userAgent);
    await mcp.connect(session.transport);
    return session;
  }

  /** The federated session at /mcp: upstream sessions are opened when a list or call first needs them. */
  async openFederated(principal: Principal, clientIp: string, userAgent: string | null): Promise<McpSession> {
    const mcp = new Server({ name: 'omega', version: this.version }, { capabilities: { tools: {} } });
    const upstreams = new FederatedUpstreams(this.servers, this.serversFor(principal), this.version);
    const session = this.session(null, principal, mcp, () => upstreams.close());
    registerFederatedHandlers(mcp, upstreams, principal, { deps: this.deps, clientIp, userAgent, log: this.log });
    await mcp.connect(session.transport);
    return session;
  }

  private session(server: string | null, principal: Principal, mcp: Server, closeUpstream: () => Promise<void>): McpSession {
    const session: McpSession = {
      id: undefined,
      server,
      keyId: principal.keyId,
      lastUsed: Date.now(),
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          session.id = id;
          this.sessions.set(id, session);
        },
      }),
      close: async () => {
        if (session.id) this.sessions.delete(session.id);
        await Promise.allSettled([mcp.close(), closeUpstream()]);
      },
    };
    session.transport.onclose = () => void session.close();
    return session;
  }

  /**
   * Closes every session, upstreams included, once the tool calls in flight have ended: a
   * shutdown lets them finish within its grace period, then aborts them (main.ts), and each is
   * audited either way.
   */
  async closeAll(): Promise<void> {
    clearInterval(this.sweep);
    while (this.calls.size > 0) await new Promise((resolve) => setTimeout(resolve, 25));
    await Promise.allSettled([...this.sessions.values()].map((s) => s.close()));
  }

  get size(): number {
    return this.sessions.size;
  }
}

function registerHandlers(mcp: Server, upstream: Client, server: string, config: McpServerConfig, principal: Principal, timeout: number, deps: ToolCallDeps, clientIp: string, userAgent: string | null): void {
  mcp.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
    const listed = await upstream.listTools(request.params, { signal: extra.signal, timeout });
    return { ...listed, tools: listed.tools.filter((t) => mayCallTool(principal, server, t.name)) };
  });

  mcp.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args = {} } = request.params;
    // Same answer as for a tool that does not exist: a denied tool is invisible.
    if (!mayCallTool(principal, server, name)) throw new McpError(ErrorCode.InvalidParams, `Tool ${name} not found`);
    const call = { principal, server, tool: name, args, priceUsd: toolPrice(config, name), requestId: `req_${randomUUID().replaceAll('-', '')}`, clientIp, userAgent, signal: extra.signal };
    return (await runToolCall(deps, call, invokeUpstream(upstream, server, name, timeout))) as never;
  });
}
