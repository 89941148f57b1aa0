/**
 * Reading the SQLite audit trail. These queries moved here unchanged from audit/query.ts,
 * audit/verify.ts, audit/spend.ts and budget/seed.ts, so those modules take the AuditQuery
 * interface and work on any back end.
 */
import { sql, type Kysely } from 'kysely';
import type { StoredRow } from '../../audit/chain.js';
import type { AuditRecord } from '../../audit/record.js';
import type { AuditExportFilter, AuditFilter, AuditPage, AuditQuery, CostScope, SpendBucket } from '../types.js';
import { decodeCursor, encodeCursor } from '../audit-cursor.js';
import type { SqliteTables } from './database.js';

const BUCKET_MS = 15 * 60_000;

export class SqliteAuditQuery implements AuditQuery {
  constructor(private readonly db: Kysely<SqliteTables>) {}

  async search(f: AuditFilter): Promise<AuditPage> {
    const db = this.db;
    const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
    let q = db.selectFrom('audit_records').select(['seq', 'record', 'record_hash', 'chain_seq']).orderBy('seq', 'desc').limit(limit + 1);
    if (f.tenantId) q = q.where('tenant_id', '=', f.tenantId);
    if (f.teamId) q = q.where('team_id', '=', f.teamId);
    if (f.agentId) q = q.where('agent_id', '=', f.agentId);
    if (f.model) q = q.where((eb) => eb.or([eb('model_resolved', '=', f.model!), eb('model_requested', '=', f.model!)]));
    if (f.outcome) q = q.where('policy_outcome', '=', f.outcome);
    if (f.riskMin !== undefined) q = q.where('risk_score', '>=', f.riskMin);
    if (f.riskMax !== undefined) q = q.where('risk_score', '<=', f.riskMax);
    if (f.since !== undefined) q = q.where('received_at', '>=', f.since);
    if (f.until !== undefined) q = q.where('received_at', '<', f.until);
    if (f.decisionId) q = q.where('decision_id', '=', f.decisionId);
    if (!f.allKinds) q = q.where('kind', '=', 'request');
    if (f.cursor) q = q.where('seq', '<', decodeCursor(f.cursor));
    const rows = await q.execute();
    const page = rows.slice(0, limit);
    return {
      data: page.map((r) => ({ ...(JSON.parse(r.record) as AuditRecord), seq: r.seq, record_hash: r.record_hash, chain_seq: r.chain_seq })),
      next_cursor: rows.length > limit ? encodeCursor(page.at(-1)!.seq) : null,
    };
  }

  async exportPage(f: AuditExportFilter, after: number, limit: number): Promise<{ seq: number; record: AuditRecord }[]> {
    let q = this.db.selectFrom('audit_records').select(['seq', 'record']).where('seq', '>', after).orderBy('seq').limit(limit);
    if (f.tenantId) q = q.where('tenant_id', '=', f.tenantId);
    if (f.since !== undefined) q = q.where('received_at', '>=', f.since);
    if (f.until !== undefined) q = q.where('received_at', '<', f.until);
    if (!f.allKinds) q = q.where('kind', '=', 'request');
    return (await q.execute()).map((r) => ({ seq: r.seq, record: JSON.parse(r.record) as AuditRecord }));
  }

  async chains(): Promise<string[]> {
    return (await this.db.selectFrom('audit_records').select('chain').distinct().orderBy('chain').execute()).map((r) => r.chain);
  }

  async chainRows(chain: string): Promise<StoredRow[]> {
    return (await this.db.selectFrom('audit_records').selectAll().where('chain', '=', chain).orderBy('chain_seq').execute()) as StoredRow[];
  }

  async spendBuckets(q: { tenantId?: string; since: number; until?: number }): Promise<SpendBucket[]> {
    let query = this.db
      .selectFrom('audit_records')
      .select([
        sql<number>`(received_at / ${sql.lit(BUCKET_MS)}) * ${sql.lit(BUCKET_MS)}`.as('bucket'),
        'tenant_id',
        'team_id',
        'agent_id',
        'model_resolved',
        sql<number>`count(*)`.as('requests'),
        sql<number>`coalesce(sum(input_tokens), 0)`.as('input_tokens'),
        sql<number>`coalesce(sum(output_tokens), 0)`.as('output_tokens'),
        sql<number>`coalesce(sum(cost_usd), 0)`.as('cost_usd'),
      ])
      .where('received_at', '>=', q.since)
      .where('tenant_id', 'is not', null)
      .where('kind', '=', 'request') // strict mode's pre-forwarding rows would count requests twice
      .groupBy(['bucket', 'tenant_id', 'team_id', 'agent_id', 'model_resolved']);
    if (q.until !== undefined) query = query.where('received_at', '<', q.until);
    if (q.tenantId) query = query.where('tenant_id', '=', q.tenantId);
    return (await query.execute()).map((r) => ({ ...r, tenant_id: r.tenant_id!, bucket: Number(r.bucket), requests: Number(r.requests), input_tokens: Number(r.input_tokens), output_tokens: Number(r.output_tokens), cost_usd: Number(r.cost_usd) }));
  }

  async sumCost(s: CostScope): Promise<number> {
    const row = await this.db
      .selectFrom('audit_records')
      .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('cost_usd'), eb.lit(0)).as('spent'))
      .where('tenant_id', '=', s.tenantId)
      .where('kind', '=', 'request')
      .where(s.column, '=', s.value)
      .where('received_at', '>=', s.since)
      .executeTakeFirst();
    return Number(row?.spent ?? 0);
  }
}
