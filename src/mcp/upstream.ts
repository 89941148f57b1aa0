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
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { McpServerConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import type { ToolResult } from '../pipeline/tool-call.js';

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

/** The upstream call of one tool, with the transport's failures as catalog errors. */
export function invokeUpstream(upstream: Client, server: string, name: string, timeout: number): (args: Record<string, unknown>, signal: AbortSignal) => Promise<ToolResult> {
  return async (forwarded, signal) => {
    try {
      return (await upstream.callTool({ name, arguments: forwarded }, undefined, { signal, timeout })) as ToolResult;
    } catch (err) {
      const timedOut = err instanceof McpError && err.code === ErrorCode.RequestTimeout;
      throw new GatewayError(timedOut ? 'upstream_timeout' : 'upstream_error', `The MCP server "${server}" did not answer the call${timedOut ? ' in time' : ''}.`, { cause: err });
    }
  };
}
