/**
 * MCP tool calls and money and lifecycle: a priced tool is held against the caller's budgets
 * before the call and charged when the server answers, so a budget refuses the call it cannot
 * afford (which never reaches the server); a graceful shutdown waits for tool calls in flight,
 * aborts those still running past its grace period, and audits both.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMcp, type FakeMcp } from '../fakes/mcp-server.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/requests.js';

const PAYER_KEY = 'omk_test_payer_key_0123456789abcdef';
const FREE_KEY = 'omk_test_free_key_0123456789abcdefg';

let bank: FakeMcp;
beforeAll(async () => {
  bank = await startFakeMcp();
});
afterAll(async () => {
  await bank?.close();
});

function config(extra = ''): string {
  return `
storage: { url: "sqlite://\${DATA_DIR}/omega.db" }
audit: { flush_interval: 20ms }
${extra}
mcp_servers:
  bank:
    url: "${bank.url}"
    timeout: 10s
    tool_prices_usd: { transfer_funds: 0.4, "read_*": 0.05, "*": 0.01 }
tenants:
  acme:
    mcp: { servers: [bank] }
    teams:
      finance:
        agents:
          payer: { budget: { usd: 1, period: daily }, keys: [ { id: key_payer, key: "${PAYER_KEY}" } ] }
          free: { keys: [ { id: key_free, key: "${FREE_KEY}" } ] }
`;
}

async function connect(gw: TestGateway, key: string, path = '/mcp/bank'): Promise<Client> {
  const client = new Client({ name: 'budget-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}${path}`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  return client;
}

const text = (r: object) => (((r as { content?: { text?: string }[] }).content ?? [])[0]?.text ?? '');
const transfer = (amount: number) => ({ name: 'transfer_funds', arguments: { to: 'FR76', amount, currency: 'EUR' } });

describe('priced tool calls against budgets', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(config());
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('charges each answered call its price and refuses the one the budget cannot afford', async () => {
    const client = await connect(gw, PAYER_KEY);
    expect(text(await client.callTool(transfer(1)))).toBe('Transferred 1 EUR to FR76');
    expect(text(await client.callTool(transfer(2)))).toBe('Transferred 2 EUR to FR76');
    // $0.80 spent of $1: another $0.40 transfer does not fit, and never reaches the server.
    const refused = await client.callTool(transfer(3));
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/^budget_exceeded: Budget exceeded for agent:acme\/payer/);
    expect(bank.calls.filter((c) => c.tool === 'transfer_funds').map((c) => c.args.amount)).toEqual([1, 2]);
    // A cheaper tool still fits ($0.05 by the `read_*` pattern), through the federated endpoint too.
    const federated = await connect(gw, PAYER_KEY, '/mcp');
    expect((await federated.callTool({ name: 'bank__read_row', arguments: { id: 1 } })).isError).toBeFalsy();
    await Promise.all([client.close(), federated.close()]);

    const records = await waitFor(async () => {
      const rs = (await gw.auditRecords()).filter((r) => r.agent_id === 'payer' && r.tool_name !== null);
      return rs.length === 4 && rs;
    }, 'four tool-call records');
    expect(records.map((r) => [r.tool_name, r.tool_outcome, r.cost_usd])).toEqual([
      ['transfer_funds', 'called', 0.4],
      ['transfer_funds', 'called', 0.4],
      ['transfer_funds', 'over_budget', 0],
      ['read_row', 'called', 0.05],
    ]);
    expect(records[2]).toMatchObject({ error_code: 'budget_exceeded', budget_scope_hit: 'agent:acme/payer', cost_estimated_usd: 0.4 });
    expect(records[3]!.budget_remaining_usd!['agent:acme/payer']).toBeCloseTo(0.15, 9);
  });

  it('leaves unbudgeted agents free to call, the price still recorded', async () => {
    const client = await connect(gw, FREE_KEY);
    expect((await client.callTool(transfer(500))).isError).toBeFalsy();
    await client.close();
    const record = await waitFor(async () => (await gw.auditRecords()).find((r) => r.agent_id === 'free' && r.tool_name === 'transfer_funds'), 'the record');
    expect(record).toMatchObject({ tool_outcome: 'called', cost_usd: 0.4, budget_reserved_usd: 0 });
  });
});

describe('graceful shutdown with tool calls in flight', () => {
  it('waits for a call within the grace period, aborts one past it, and audits both', async () => {
    const gw = await startTestGateway(config('server: { shutdown_grace: 1500ms }'));
    const client = await connect(gw, FREE_KEY);
    const quick = client.callTool({ name: 'get_weather', arguments: { city: 'slow:600' } });
    const stuck = client.callTool({ name: 'get_weather', arguments: { city: 'slow:20000' } }).then(
      (r) => r,
      (e: unknown) => e,
    );
    await waitFor(() => bank.calls.some((c) => c.args.city === 'slow:20000') && bank.calls.some((c) => c.args.city === 'slow:600'), 'both calls at the server');
    const started = Date.now();
    await gw.close();
    const took = Date.now() - started;
    // The quick call finished during the grace period; the stuck one was ended at its end.
    expect(text(await quick)).toBe('Sunny in slow:600, 21°C');
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(15_000);
    await stuck; // answered with a refusal or cut with the connection: either way it ended
    const db = new Database(join(gw.dir, 'omega.db'), { readonly: true });
    const records = db
      .prepare("select record from audit_records where kind = 'request'")
      .all()
      .map((row) => JSON.parse((row as { record: string }).record))
      .filter((r) => r.tool_name === 'get_weather');
    db.close();
    expect(records.find((r) => r.tool_outcome === 'called')).toMatchObject({ tool_outcome: 'called', error_code: null });
    expect(records.find((r) => r.tool_outcome === 'failed')).toMatchObject({ error_code: 'shutting_down', upstream_error: 'aborted by gateway shutdown', client_disconnected: false });
    await client.close().catch(() => undefined);
    await gw.stop().catch(() => undefined);
  }, 60_000);
});
