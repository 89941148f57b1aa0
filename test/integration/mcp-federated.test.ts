/**
 * The federated MCP endpoint /mcp: one virtual server per caller serving every MCP server it may
 * use, tools named `<server>__<tool>`, through the official SDK client. Lists are filtered by
 * grants, calls are routed to the right upstream through the same pipeline (policy, audit), and
 * what a caller may not use is invisible and uncallable.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMcp, type FakeMcp } from '../fakes/mcp-server.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/requests.js';

const OPS_KEY = 'omk_test_fed_ops_key_0123456789abcde';
const READER_KEY = 'omk_test_fed_reader_key_0123456789ab';
const GLOBEX_KEY = 'omk_test_fed_globex_key_0123456789ab';
const NOTHING_KEY = 'omk_test_fed_nothing_key_0123456789a';

let bank: FakeMcp;
let weather: FakeMcp;
let gw: TestGateway;
const clients: Client[] = [];

beforeAll(async () => {
  [bank, weather] = await Promise.all([startFakeMcp(), startFakeMcp()]);
  gw = await startTestGateway(`
storage: { url: "sqlite://\${DATA_DIR}/omega.db" }
audit: { flush_interval: 20ms }
mcp_servers:
  bank: { url: "${bank.url}", timeout: 5s }
  weather: { url: "${weather.url}" }
  dead: { url: "http://127.0.0.1:9/mcp", timeout: 1s }
policies:
  guarded:
    rules:
      - { id: no-drops, tools: [drop_table], action: block }
tenants:
  acme:
    policy: guarded
    mcp: { servers: ["*"] }
    teams:
      ops:
        agents:
          ops: { keys: [ { id: key_ops, key: "${OPS_KEY}" } ] }
          reader:
            mcp: { servers: [bank, weather], tools: ["weather/*", "bank/read_row"] }
            keys: [ { id: key_reader, key: "${READER_KEY}" } ]
  globex:
    mcp: { servers: [weather], tools: [get_weather] }
    teams: { t: { agents: { a: { keys: [ { id: key_globex, key: "${GLOBEX_KEY}" } ] } } } }
  initech:
    teams: { t: { agents: { a: { keys: [ { id: key_nothing, key: "${NOTHING_KEY}" } ] } } } }
`);
});
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await gw?.stop();
  await Promise.all([bank?.close(), weather?.close()]);
});

async function connect(key: string): Promise<Client> {
  const client = new Client({ name: 'federated-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  clients.push(client);
  return client;
}

const names = async (c: Client) => (await c.listTools()).tools.map((t) => t.name);
const text = (r: object) => (((r as { content?: { text?: string }[] }).content ?? [])[0]?.text ?? '');

describe('federated /mcp', () => {
  it('lists every granted server’s tools, namespaced, and leaves out a server that cannot be reached', async () => {
    const ops = await connect(OPS_KEY);
    expect(await names(ops)).toEqual([
      'bank__drop_table', 'bank__get_weather', 'bank__read_row', 'bank__transfer_funds',
      'weather__drop_table', 'weather__get_weather', 'weather__read_row', 'weather__transfer_funds',
    ]);
    const tool = (await ops.listTools()).tools.find((t) => t.name === 'bank__transfer_funds')!;
    expect(tool.description).toBe('Move money');
    expect(tool.inputSchema.properties).toHaveProperty('amount');
    const reader = await connect(READER_KEY);
    expect(await names(reader)).toEqual(['bank__read_row', 'weather__drop_table', 'weather__get_weather', 'weather__read_row', 'weather__transfer_funds']);
  });

  it('routes each call to its server through the pipeline, with an audit record per call', async () => {
    const ops = await connect(OPS_KEY);
    const viaWeather = await ops.callTool({ name: 'weather__get_weather', arguments: { city: 'Oslo' } });
    expect(text(viaWeather)).toBe('Sunny in Oslo, 21°C');
    expect(weather.calls).toContainEqual({ tool: 'get_weather', args: { city: 'Oslo' } });
    expect(bank.calls.some((c) => c.args.city === 'Oslo')).toBe(false);
    const viaBank = await ops.callTool({ name: 'bank__transfer_funds', arguments: { to: 'FR76', amount: 10, currency: 'EUR' } });
    expect(text(viaBank)).toBe('Transferred 10 EUR to FR76');
    expect(bank.calls).toContainEqual({ tool: 'transfer_funds', args: { to: 'FR76', amount: 10, currency: 'EUR' } });
    const records = await waitFor(async () => {
      const rs = (await gw.auditRecords()).filter((r) => r.endpoint === '/mcp' && r.tool_outcome === 'called');
      return rs.length >= 2 && rs;
    }, 'the audit records');
    expect(records.map((r) => [r.mcp_server, r.tool_name])).toEqual([['weather', 'get_weather'], ['bank', 'transfer_funds']]);
    expect(records[0]).toMatchObject({ method: 'tools/call', tenant_id: 'acme', agent_id: 'ops', policy_outcome: 'ALLOW' });
  });

  it('applies the policy before the call reaches the server', async () => {
    const ops = await connect(OPS_KEY);
    const result = await ops.callTool({ name: 'bank__drop_table', arguments: { table: 'customers' } });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('policy_blocked');
    expect(bank.calls.some((c) => c.tool === 'drop_table')).toBe(false);
    const record = await waitFor(async () => (await gw.auditRecords()).find((r) => r.endpoint === '/mcp' && r.tool_name === 'drop_table'), 'the audit record');
    expect(record).toMatchObject({ mcp_server: 'bank', tool_outcome: 'blocked', matched_rules: ['no-drops'] });
  });

  it('keeps denied servers and tools invisible and uncallable, per agent and per tenant', async () => {
    const reader = await connect(READER_KEY);
    await expect(reader.callTool({ name: 'bank__transfer_funds', arguments: { to: 'x', amount: 1, currency: 'EUR' } })).rejects.toThrow(/not found/);
    await expect(reader.callTool({ name: 'nosuch__tool', arguments: {} })).rejects.toThrow(/not found/);
    await expect(reader.callTool({ name: 'get_weather', arguments: { city: 'x' } })).rejects.toThrow(/not found/);
    const globex = await connect(GLOBEX_KEY);
    expect(await names(globex)).toEqual(['weather__get_weather']);
    await expect(globex.callTool({ name: 'bank__read_row', arguments: { id: 1 } })).rejects.toThrow(/not found/);
    expect(bank.calls.some((c) => c.tool === 'read_row')).toBe(false);
    // A tenant granted no server has no federated endpoint either.
    await expect(connect(NOTHING_KEY)).rejects.toThrow();
    await expect(connect('omk_not_a_key_0123456789abcdefghij')).rejects.toThrow();
  });

  it('a federated session is bound to the key that opened it', async () => {
    const ops = await connect(OPS_KEY);
    const sessionId = (ops.transport as StreamableHTTPClientTransport).sessionId!;
    const res = await fetch(`${gw.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GLOBEX_KEY}`, 'mcp-session-id': sessionId, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(res.status).toBe(404);
    // Nor is a per-server session id valid at /mcp.
    const bankClient = new Client({ name: 't', version: '1' });
    await bankClient.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp/bank`), { requestInit: { headers: { authorization: `Bearer ${OPS_KEY}` } } }));
    clients.push(bankClient);
    const cross = await fetch(`${gw.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPS_KEY}`, 'mcp-session-id': (bankClient.transport as StreamableHTTPClientTransport).sessionId!, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(cross.status).toBe(404);
  });
});
