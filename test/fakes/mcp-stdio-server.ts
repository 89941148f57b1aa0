/**
 * The fake bank MCP server (mcp-server.ts) over stdio, started by the gateway as a child process.
 * Each call that reaches it is appended as a JSON line to the file named by MCP_CALL_LOG.
 */
import { appendFileSync } from 'node:fs';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { buildFakeMcpServer } from './mcp-server.js';

const log = process.env.MCP_CALL_LOG;
const calls = {
  push(call: { tool: string; args: Record<string, unknown> }): number {
    if (log) appendFileSync(log, `${JSON.stringify(call)}\n`);
    return 0;
  },
} as unknown as { tool: string; args: Record<string, unknown> }[];

await buildFakeMcpServer(calls).connect(new StdioServerTransport());
