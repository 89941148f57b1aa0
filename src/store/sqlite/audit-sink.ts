import type { Kysely } from 'kysely';
import type { AuditRecord } from '../../audit/record.js';
import type { AuditSink } from '../types.js';
import type { SqliteTables } from './database.js';

/** SQLite allows 32,766 bound variables per statement; 20 columns × 500 rows stays well under. */
const ROWS_PER_INSERT = 500;

export class SqliteAuditSink implements AuditSink {
  constructor(private readonly db: Kysely<SqliteTables>) {}

  async append(records: readonly AuditRecord[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < records.length; i += ROWS_PER_INSERT) {
        await trx
          .insertInto('audit_records')
          .values(records.slice(i, i + ROWS_PER_INSERT).map(toRow))
          .execute();
      }
    });
  }
}

function toRow(r: AuditRecord) {
  return {
    decision_id: r.decision_id,
    received_at: r.received_at_ms,
    tenant_id: r.tenant_id,
    team_id: r.team_id,
    agent_id: r.agent_id,
    key_id: r.key_id,
    endpoint: r.endpoint,
    model_requested: r.model_requested,
    model_resolved: r.model_resolved,
    provider: r.provider,
    stream: r.stream ? 1 : 0,
    policy_outcome: r.policy_outcome,
    risk_score: r.risk_score,
    http_status: r.http_status,
    error_code: r.error_code,
    input_tokens: r.input_tokens,
    output_tokens: r.output_tokens,
    cost_usd: r.cost_usd,
    record: JSON.stringify(r),
  };
}
