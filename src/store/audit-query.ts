/**
 * Reading the audit trail, one implementation for SQLite and PostgreSQL (the same table and
 * portable queries). These queries moved here from audit/query.ts, audit/verify.ts,
 * audit/spend.ts and budget/seed.ts, so those modules take the AuditQuery interface.
 */
import { sql, type Kysely } from 'kysely';
import { chargedSpendBuckets, chargedSpendBy, chargedSum, unfinishedRows, type ChargedTables, type SpendGroup, type SpendGroupRow } from './charged-rows.js';
import { overviewBuckets, type OverviewQuery, type OverviewRow } from './audit-overview.js';
import type { StoredRow } from '../audit/chain.js';
import type { AuditRecord } from '../audit/record.js';
import type { AuditExportFilter, AuditFilter, AuditPage, AuditQuery, CostScope, SpendBucket } from './types.js';
import { decodeCursor, encodeCursor } from './audit-cursor.js';
import type { AuditRecordsTable } from './sqlite/database.js';

type AuditDb = Kysely<{ audit_records: AuditRecordsTable }>;

export class KyselyAuditQuery<DB extends { audit_records: AuditRecordsTable }> implements AuditQuery {
  private readonly db: AuditDb;

  constructor(db: Kysely<DB>) {
    // Kysely's table types are invariant: the queries see only the table they use.
    this.db = db as unknown as AuditDb;
  }

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
    if (f.kinds) q = q.where('kind', 'in', f.kinds);
    else if (!f.allKinds) q = q.where('kind', '=', 'request');
    if (f.text) {
      // LIKE with the wildcards of the text escaped; the same on both back ends.
      const pattern = `%${f.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const like = (column: 'decision_id' | 'endpoint' | 'model_resolved' | 'model_requested' | 'team_id' | 'agent_id' | 'key_id' | 'error_code') => sql<boolean>`${sql.ref(column)} like ${pattern} escape '\\'`;
      q = q.where((eb) => eb.or([like('decision_id'), like('endpoint'), like('model_resolved'), like('model_requested'), like('team_id'), like('agent_id'), like('key_id'), like('error_code')]));
    }
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
    if (f.kinds) q = q.where('kind', 'in', f.kinds);
    else if (!f.allKinds) q = q.where('kind', '=', 'request');
    return (await q.execute()).map((r) => ({ seq: r.seq, record: JSON.parse(r.record) as AuditRecord }));
  }

  async chains(): Promise<string[]> {
    return (await this.db.selectFrom('audit_records').select('chain').distinct().orderBy('chain').execute()).map((r) => r.chain);
  }

  async chainRows(chain: string): Promise<StoredRow[]> {
    return (await this.db.selectFrom('audit_records').selectAll().where('chain', '=', chain).orderBy('chain_seq').execute()) as StoredRow[];
  }

  // Charged rows (store/charged-rows.ts): a request whose final record a crash lost still counts, once.
  async spendBuckets(q: { tenantId?: string; since: number; until?: number }): Promise<SpendBucket[]> {
    return chargedSpendBuckets(this.charged(), q);
  }

  async spendBy(q: { group: SpendGroup; tenantId?: string; since: number; until?: number }): Promise<SpendGroupRow[]> {
    return chargedSpendBy(this.charged(), q);
  }

  async overview(q: OverviewQuery): Promise<OverviewRow[]> {
    return overviewBuckets(this.db, q);
  }

  async sumCost(s: CostScope): Promise<number> {
    return chargedSum(this.charged(), s);
  }

  async unfinished(): Promise<{ kind: 'decision' | 'cost'; record: AuditRecord }[]> {
    return unfinishedRows(this.charged());
  }

  /** The same table seen through the columns the portable charged-rows queries read. */
  private charged(): Kysely<ChargedTables> {
    return this.db as unknown as Kysely<ChargedTables>;
  }
}
