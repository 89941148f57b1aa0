/**
 * The MCP gateway end to end: a real MCP server built with the official SDK behind the gateway,
 * and the SDK's client talking to /mcp/<server> with a tenant key. Grants filter the tool list,
 * policy blocks or holds calls before they reach the server, a held call runs once after
 * approval, results pass response rules, and every call has its own audit record.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROW_SECRET, startFakeMcp, type FakeMcp } from '../fakes/mcp-server.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { adminCall, waitFor } from '../support/requests.js';

const PAYMENTS_KEY = 'omk_test_payments_key_0123456789abc';
const READER_KEY = 'omk_test_reader_key_0123456789abcde';
const GLOBEX_KEY = 'omk_test_globex_mcp_key_0123456789a';
const ALICE = 'adm_test_alice_token_0123456789abcdef';
const UPSTREAM_TOKEN = 'upstream-mcp-credential-0123456789';

function config(bankUrl: string, weatherUrl: string): string {
  return `
storage:
  url: sqlite://\${DATA_DIR}/omega.db
audit:
  flush_interval: 20ms
admin:
  tokens:
    - { id: alice, token: "${ALICE}" }
mcp_servers:
  bank: { url: "${bankUrl}", headers: { authorization: "Bearer ${UPSTREAM_TOKEN}" }, timeout: 5s }
  weather: { url: "${weatherUrl}" }
policies:
  payments:
    review: { mode: hold, timeout: 1500ms, on_timeout: block }
    rules:
      - { id: no-drops, when: "tool.name == 'drop_table'", action: block }
      - { id: big-transfers, when: "tool.name == 'transfer_funds' && tool.args.amount > 5000", action: review }
      - { id: no-keys-in-args, detect: secrets, action: block }
      - { id: mask-secrets-in-results, detect: secrets, on: response, action: redact }
tenants:
  acme:
    policy: payments
    mcp: { servers: [bank], tool_rpm: { "bank/get_weather": 3 } }
    teams:
      ops:
        agents:
          payments: { keys: [ { id: key_payments, key: "${PAYMENTS_KEY}" } ] }
          reader:
            mcp: { servers: [bank], tools: [get_weather, read_row] }
            keys: [ { id: key_reader, key: "${READER_KEY}" } ]
  globex:
    mcp: { servers: [weather], tools: [get_weather] }
    teams:
      t:
        agents:
          a: { keys: [ { id: key_globex, key: "${GLOBEX_KEY}" } ] }
`;
}

let bank: FakeMcp;
let weather: FakeMcp;
let gw: TestGateway;
const clients: Client[] = [];

beforeAll(async () => {
  bank = await startFakeMcp();
  weather = await startFakeMcp();
  gw = await startTestGateway(config(bank.url, weather.url));
});
afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await gw?.stop();
  await bank?.close();
  await weather?.close();
});

async function connect(key: string, server = 'bank'): Promise<Client> {
  const client = new Client({ name: 'mcp-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp/${server}`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  clients.push(client);
  return client;
}

const text = (r: object) => (((r as { content?: { text?: string }[] }).content ?? [])[0]?.text ?? '');
const callsOf = (tool: string) => bank.calls.filter((c) => c.tool === tool);

describe('MCP gateway', () => {
  it('lists only the tools each agent may call, and injects the upstream credential server-side', async () => {
    const payments = await connect(PAYMENTS_KEY);
    expect((await payments.listTools()).tools.map((t) => t.name).sort()).toEqual(['drop_table', 'get_weather', 'read_row', 'transfer_funds']);
    const reader = await connect(READER_KEY);
    expect((await reader.listTools()).tools.map((t) => t.name).sort()).toEqual(['get_weather', 'read_row']);
    expect(bank.headers.every((h) => h.authorization === `Bearer ${UPSTREAM_TOKEN}`)).toBe(true);
  });

  it('answers an allowed call and audits it with its own signals', async () => {
    const client = await connect(PAYMENTS_KEY);
    const before = callsOf('get_weather').length;
    const result = await client.callTool({ name: 'get_weather', arguments: { city: 'Lyon' } });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toBe('Sunny in Lyon, 21°C');
    expect(callsOf('get_weather').length).toBe(before + 1);
    const record = await waitFor(async () => (await gw.auditRecords()).find((r) => r.tool_name === 'get_weather' && r.tool_outcome === 'called'), 'the audit record');
    expect(record).toMatchObject({ mcp_server: 'bank', agent_id: 'payments', tenant_id: 'acme', policy_outcome: 'ALLOW', args_bytes: JSON.stringify({ city: 'Lyon' }).length, http_status: 200 });
    expect(record.args_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(record.result_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(record.result_bytes).toBeGreaterThan(0);
    expect(record.tool_duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('refuses a blocked call without it ever reaching the server', async () => {
    const client = await connect(PAYMENTS_KEY);
    const result = await client.callTool({ name: 'drop_table', arguments: { table: 'customers' } });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('policy_blocked');
    expect(text(result)).toContain('no-drops');
    // A secret in the arguments is caught by the detectors, also before the server.
    const leaky = await client.callTool({ name: 'get_weather', arguments: { city: `Paris ${ROW_SECRET}` } });
    expect(leaky.isError).toBe(true);
    expect(callsOf('drop_table')).toEqual([]);
    expect(bank.calls.some((c) => JSON.stringify(c.args).includes(ROW_SECRET))).toBe(false);
    const records = await gw.auditRecords();
    const blocked = records.find((r) => r.tool_name === 'drop_table')!;
    expect(blocked).toMatchObject({ tool_outcome: 'blocked', policy_outcome: 'BLOCK', matched_rules: ['no-drops'], error_code: 'policy_blocked', result_hash: null, tool_duration_ms: null });
  });

  it('holds a risky call for a reviewer, runs it exactly once after approval, and refuses an approval replayed with other arguments', async () => {
    const client = await connect(PAYMENTS_KEY);
    const args = { to: 'DE89370400440532013000', amount: 9000, currency: 'EUR' };
    const pending = client.callTool({ name: 'transfer_funds', arguments: args });
    const item = await waitFor(async () => (await adminCall(gw.url, 'GET', '/reviews?status=pending', undefined, ALICE)).json.data.find((i: any) => i.model === 'mcp:bank/transfer_funds'), 'the review item');
    expect(item.request).toMatchObject({ mcp_server: 'bank', tool: 'transfer_funds', agent: 'payments', arguments: args });
    expect(item.request.args_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(item.matchedRules).toEqual([{ id: 'big-transfers', action: 'review', shadow: false }]);
    expect(callsOf('transfer_funds')).toEqual([]); // held: not executed yet
    expect((await adminCall(gw.url, 'POST', `/reviews/${item.id}/approve`, {}, ALICE)).status).toBe(200);
    const result = await pending;
    expect(result.isError).toBeFalsy();
    expect(text(result)).toBe('Transferred 9000 EUR to DE89370400440532013000');
    expect(callsOf('transfer_funds')).toEqual([{ tool: 'transfer_funds', args }]);

    // The approval is single use and bound to the call: other arguments need a new decision (none comes: timeout, on_timeout block).
    const replay = await client.callTool({ name: 'transfer_funds', arguments: { ...args, amount: 9500 } });
    expect(replay.isError).toBe(true);
    expect(text(replay)).toContain('review_rejected');
    expect((await adminCall(gw.url, 'POST', `/reviews/${item.id}/approve`, {}, ALICE)).status).toBe(409);
    expect(callsOf('transfer_funds')).toHaveLength(1);
    const items = (await adminCall(gw.url, 'GET', '/reviews', undefined, ALICE)).json.data.filter((i: any) => i.model === 'mcp:bank/transfer_funds');
    expect(items).toHaveLength(2);
    expect(items[0].request.args_sha256).not.toBe(items[1].request.args_sha256);
    const records = (await gw.auditRecords()).filter((r) => r.tool_name === 'transfer_funds');
    expect(records.map((r) => r.tool_outcome)).toEqual(['called', 'rejected']);
    expect(records[0]!.review_decision).toBe('approved');
  });

  it('redacts a secret in a tool result', async () => {
    const client = await connect(READER_KEY);
    const result = await client.callTool({ name: 'read_row', arguments: { id: 7 } });
    expect(result.isError).toBeFalsy();
    expect(text(result)).not.toContain(ROW_SECRET);
    expect(text(result)).toContain('[REDACTED:');
    expect(text(result)).toContain('Ada');
    const record = (await gw.auditRecords()).find((r) => r.tool_name === 'read_row')!;
    expect(record.tool_outcome).toBe('called');
    expect(JSON.stringify(record)).not.toContain(ROW_SECRET);
  });

  it('keeps denied tools invisible and uncallable', async () => {
    const reader = await connect(READER_KEY);
    await expect(reader.callTool({ name: 'transfer_funds', arguments: { to: 'x', amount: 1, currency: 'EUR' } })).rejects.toThrow(/not found/);
    await expect(reader.callTool({ name: 'no_such_tool', arguments: {} })).rejects.toThrow(/not found/);
    expect(callsOf('transfer_funds')).toHaveLength(1);
  });

  it('keeps another tenant out of servers it was not granted', async () => {
    const globex = await connect(GLOBEX_KEY, 'weather');
    expect((await globex.listTools()).tools.map((t) => t.name)).toEqual(['get_weather']);
    await expect(globex.callTool({ name: 'read_row', arguments: { id: 1 } })).rejects.toThrow(/not found/);
    await expect(connect(GLOBEX_KEY, 'bank')).rejects.toThrow();
    await expect(connect(PAYMENTS_KEY, 'weather')).rejects.toThrow();
    await expect(connect('omk_not_a_key_0123456789abcdefghij')).rejects.toThrow();
    expect(weather.calls).toEqual([]);
  });

  it('a session is bound to the key that opened it', async () => {
    const client = await connect(PAYMENTS_KEY);
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId!;
    const res = await fetch(`${gw.url}/mcp/bank`, {
      method: 'POST',
      headers: { authorization: `Bearer ${READER_KEY}`, 'mcp-session-id': sessionId, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'transfer_funds', arguments: { to: 'x', amount: 1, currency: 'EUR' } } }),
    });
    expect(res.status).toBe(404);
    // Without a session, only an initialize is accepted (nothing is opened upstream otherwise).
    // Upstream initializes are the requests without a session id (other sessions' streams may come and go meanwhile).
    const initializes = () => bank.headers.filter((h) => h['mcp-session-id'] === undefined).length;
    const before = initializes();
    const orphan = await fetch(`${gw.url}/mcp/bank`, {
      method: 'POST',
      headers: { authorization: `Bearer ${PAYMENTS_KEY}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(orphan.status).toBe(400);
    expect(initializes()).toBe(before);
  });

  it('applies a per-tool rate quota', async () => {
    const client = await connect(PAYMENTS_KEY);
    // Earlier tests made get_weather calls as this agent (allowed and blocked alike count: the quota comes before policy).
    const used = (await gw.auditRecords()).filter((r) => r.tool_name === 'get_weather' && r.agent_id === 'payments').length;
    expect(used).toBe(2);
    const before = callsOf('get_weather').length;
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await client.callTool({ name: 'get_weather', arguments: { city: `C${i}` } }));
    expect(results.map((r) => Boolean(r.isError))).toEqual([false, true, true]);
    expect(text(results[1]!)).toContain('rate_limited');
    expect(callsOf('get_weather').length).toBe(before + 1);
    expect((await gw.auditRecords()).filter((r) => r.tool_outcome === 'rate_limited')).toHaveLength(2);
  });
});
