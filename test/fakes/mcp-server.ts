/**
 * A real MCP server built with the official SDK (McpServer + Streamable HTTP, stateful sessions)
 * on 127.0.0.1, for tests of the MCP gateway. Its own call log shows which calls reached it.
 * `get_weather` for the city `slow:<ms>` answers after that many milliseconds.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

/** A fake AWS key (AWS's documented example) in a database row. */
export const ROW_SECRET = 'AKIAIOSFODNN7EXAMPLE';

export interface FakeMcp {
  url: string;
  /** Every tools/call that reached this server, in order. */
  calls: { tool: string; args: Record<string, unknown> }[];
  /** Headers of every HTTP request (credentials injected by the gateway). */
  headers: IncomingMessage['headers'][];
  close(): Promise<void>;
}

export function buildFakeMcpServer(calls: FakeMcp['calls']): McpServer {
  const server = new McpServer({ name: 'fake-bank', version: '1.0.0' });
  server.registerTool('get_weather', { description: 'Weather for a city', inputSchema: { city: z.string() } }, async (args) => {
    calls.push({ tool: 'get_weather', args });
    // A city named `slow:<ms>` answers after that long (shutdown tests).
    const slow = /^slow:(\d+)$/.exec(args.city);
    if (slow) await new Promise((resolve) => setTimeout(resolve, Number(slow[1])));
    return { content: [{ type: 'text', text: `Sunny in ${args.city}, 21°C` }] };
  });
  server.registerTool('transfer_funds', { description: 'Move money', inputSchema: { to: z.string(), amount: z.number(), currency: z.string() } }, async (args) => {
    calls.push({ tool: 'transfer_funds', args });
    return { content: [{ type: 'text', text: `Transferred ${args.amount} ${args.currency} to ${args.to}` }] };
  });
  server.registerTool('read_row', { description: 'Read a customer row', inputSchema: { id: z.number() } }, async (args) => {
    calls.push({ tool: 'read_row', args });
    return { content: [{ type: 'text', text: JSON.stringify({ id: args.id, name: 'Ada', aws_key: ROW_SECRET }) }] };
  });
  server.registerTool('drop_table', { description: 'Drop a table', inputSchema: { table: z.string() } }, async (args) => {
    calls.push({ tool: 'drop_table', args });
    return { content: [{ type: 'text', text: `dropped ${args.table}` }] };
  });
  return server;
}

export async function startFakeMcp(): Promise<FakeMcp> {
  const calls: FakeMcp['calls'] = [];
  const headers: FakeMcp['headers'] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const http = createServer((req, res) => {
    headers.push(req.headers);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      const id = req.headers['mcp-session-id'];
      let transport = typeof id === 'string' ? transports.get(id) : undefined;
      if (!transport) {
        const created = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (sid) => void transports.set(sid, created) });
        created.onclose = () => created.sessionId && transports.delete(created.sessionId);
        await buildFakeMcpServer(calls).connect(created);
        transport = created;
      }
      await transport.handleRequest(req, res, body);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    headers,
    close: async () => {
      await Promise.allSettled([...transports.values()].map((t) => t.close()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
