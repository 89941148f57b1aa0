/**
 * The gateway's side towards an upstream MCP server: one SDK Client per downstream session,
 * over Streamable HTTP (credentials from the deployment file, injected here and never seen by
 * the tenant) or stdio (a command only the deployment file can name).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { fetch as undiciFetch } from 'undici';
import type { McpServerConfig } from '../config/schema.js';

// undici's fetch, not the global one: the SDK transport takes it as an option.
const fetchUpstream = undiciFetch as unknown as FetchLike;

export async function connectUpstream(name: string, server: McpServerConfig, version: string): Promise<Client> {
  const client = new Client({ name: `omega-gateway/${name}`, version }, { capabilities: {} });
  const transport = server.url
    ? new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: server.headers }, fetch: fetchUpstream })
    : new StdioClientTransport({ command: server.command!, args: server.args, env: { ...getDefaultEnvironment(), ...server.env }, stderr: 'ignore' });
  await client.connect(transport, { timeout: server.timeout });
  return client;
}
