/**
 * A stdio MCP server behind the gateway: the deployment file names the command, the gateway
 * starts it per session, and calls through /mcp/<server> get the same grants and policy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ROW_SECRET } from '../fakes/mcp-server.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';

const KEY = 'omk_test_stdio_key_0123456789abcdef';
const SCRIPT = fileURLToPath(new URL('../fakes/mcp-stdio-server.ts', import.meta.url));

let gw: TestGateway;
let logFile: string;
let client: Client | undefined;

beforeAll(async () => {
  gw = await startTestGateway(`
storage:
  url: sqlite://\${DATA_DIR}/omega.db
audit:
  flush_interval: 20ms
mcp_servers:
  bank-stdio:
    command: "${process.execPath}"
    args: ["--import", "tsx", "${SCRIPT}"]
    env: { MCP_CALL_LOG: "\${DATA_DIR}/calls.jsonl" }
    timeout: 20s
policies:
  tools:
    rules:
      - { id: no-drops, when: "tool.name == 'drop_table'", action: block }
      - { id: mask-secrets-in-results, detect: secrets, on: response, action: redact }
tenants:
  acme:
    policy: tools
    mcp: { servers: [bank-*], tools: [get_weather, read_row, drop_table] }
    teams: { ops: { agents: { bot: { keys: [ { id: key_bot, key: "${KEY}" } ] } } } }
`);
  logFile = join(gw.dir, 'calls.jsonl');
});
afterAll(async () => {
  await client?.close();
  await gw?.stop();
});

it('serves a stdio MCP server with the same grants, policy and response rules', async () => {
  client = new Client({ name: 'stdio-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp/bank-stdio`), { requestInit: { headers: { authorization: `Bearer ${KEY}` } } }));
  expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['drop_table', 'get_weather', 'read_row']);
  const weather = await client.callTool({ name: 'get_weather', arguments: { city: 'Oslo' } });
  expect((weather.content as { text: string }[])[0]!.text).toBe('Sunny in Oslo, 21°C');
  const row = await client.callTool({ name: 'read_row', arguments: { id: 1 } });
  expect((row.content as { text: string }[])[0]!.text).not.toContain(ROW_SECRET);
  const blocked = await client.callTool({ name: 'drop_table', arguments: { table: 't' } });
  expect(blocked.isError).toBe(true);
  const calls = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];
  expect(calls.map((c: { tool: string }) => c.tool)).toEqual(['get_weather', 'read_row']);
  const records = (await gw.auditRecords()).filter((r) => r.mcp_server === 'bank-stdio');
  expect(records.map((r) => r.tool_outcome)).toEqual(['called', 'called', 'blocked']);
}, 30_000);
