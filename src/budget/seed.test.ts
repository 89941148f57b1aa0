import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildAuditRecord, type AuditRecord } from '../audit/record.js';
import { spendReport } from '../audit/spend.js';
import { parseConfigText } from '../config/load.js';
import { RequestContext } from '../pipeline/context.js';
import { KyselyAuditQuery } from '../store/audit-query.js';
import { SqliteAuditSink } from '../store/sqlite/audit-sink.js';
import { openSqlite, type SqliteTables } from '../store/sqlite/database.js';
import { MemoryBudgetLedger } from './memory-ledger.js';
import { seedLedgerFromAudit } from './seed.js';

const config = parseConfigText(`
providers: { p: { type: openai-compatible, base_url: "http://127.0.0.1:9/v1" } }
models: { m: { provider: p, price: { input: 1, output: 1 } } }
tenants:
  acme:
    budget: { usd: 100, period: daily }
    models: [m]
    teams: { t: { agents: { a: { keys: [ { id: k, key: "omk_test_seed_key_0123456789abcdef" } ] } } } }
`, 'seed.test', {});

let dir: string;
let db: Kysely<SqliteTables>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'omega-seed-'));
  db = await openSqlite(`sqlite://${join(dir, 'omega.db')}`);
});
afterEach(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function row(decisionId: string, kind: AuditRecord['kind'], cost: number, reserved: number): AuditRecord {
  const base = buildAuditRecord(new RequestContext('r', '/v1/chat/completions', 'POST', '127.0.0.1', null, null), { instance: 'i', version: 'v', configVersion: 'c' }, kind);
  return { ...base, decision_id: decisionId, tenant_id: 'acme', team_id: 't', agent_id: 'a', key_id: 'k', cost_usd: cost, budget_reserved_usd: reserved };
}

describe('budget seeding after a crash', () => {
  it('charges each request once: its final record, else its committed cost, else its reserved worst case', async () => {
    const sink = await SqliteAuditSink.open(db);
    await sink.append([
      row('dec_final', 'decision', 0, 5), row('dec_final', 'cost', 1, 5), row('dec_final', 'request', 1.5, 5), // final record wins
      row('dec_cost', 'decision', 0, 5), row('dec_cost', 'cost', 2, 5), // final record lost: committed cost
      row('dec_lost', 'decision', 0, 5), // lost in flight: reserved worst case
      row('dec_batched', 'request', 3, 4), // batched mode: final record only
    ]);
    const ledger = new MemoryBudgetLedger({ timeZone: 'UTC' });
    await seedLedgerFromAudit(new KyselyAuditQuery(db), config, ledger);
    const scope = { key: 'tenant:acme', limitUsd: 100, period: 'daily' as const, alerts: [] };
    expect((await ledger.status([scope]))['tenant:acme']!.spentUsd).toBeCloseTo(1.5 + 2 + 5 + 3, 12);

    const report = await spendReport(new KyselyAuditQuery(db), { since: 0, timeZone: 'UTC' });
    expect(report).toHaveLength(1);
    expect(report[0]).toMatchObject({ tenant_id: 'acme', requests: 4 });
    expect(report[0]!.cost_usd).toBeCloseTo(11.5, 12);
  });
});
