/**
 * The audit trail in SQLite, append-only and hash-chained per tenant (see audit/chain.ts).
 * One process appends at a time (the embedded default), so the chain heads live in memory and
 * are assigned inside the same transaction that inserts the batch.
 */
import type { Kysely } from 'kysely';
import { chainHash, chainOf, GENESIS_HASH, type RetentionEvent } from '../../audit/chain.js';
import type { AuditRecord } from '../../audit/record.js';
import type { AuditRetention, AuditSink } from '../types.js';
import { rawSqlite, type SqliteTables } from './database.js';

const INSERT_COLUMNS = [
  'decision_id', 'received_at', 'tenant_id', 'team_id', 'agent_id', 'key_id', 'endpoint', 'model_requested', 'model_resolved', 'provider',
  'stream', 'policy_outcome', 'risk_score', 'http_status', 'error_code', 'input_tokens', 'output_tokens', 'cost_usd', 'budget_reserved_usd',
  'record', 'kind', 'chain', 'chain_seq', 'prev_hash', 'record_hash',
] as const;

interface Head {
  seq: number;
  hash: string;
}

export class SqliteAuditSink implements AuditSink, AuditRetention {
  private heads = new Map<string, Head>();

  private constructor(private readonly db: Kysely<SqliteTables>) {}

  /** Opens the sink: loads every chain's head and hashes rows written before chaining existed. */
  static async open(db: Kysely<SqliteTables>): Promise<SqliteAuditSink> {
    const sink = new SqliteAuditSink(db);
    await sink.sealUnhashed();
    const heads = await db
      .selectFrom('audit_records as a')
      .select(['a.chain', 'a.chain_seq', 'a.record_hash'])
      .where(({ eb, selectFrom }) => eb('a.chain_seq', '=', selectFrom('audit_records as b').select((b) => b.fn.max('b.chain_seq').as('m')).whereRef('b.chain', '=', 'a.chain')))
      .execute();
    for (const h of heads) sink.heads.set(h.chain, { seq: h.chain_seq, hash: h.record_hash });
    return sink;
  }

  async append(records: readonly AuditRecord[]): Promise<void> {
    // A prepared statement in one synchronous transaction, under Kysely's connection lock: the
    // group commit costs a few microseconds a record instead of building SQL for every row.
    await this.db.connection().execute(async () => {
      const heads = new Map(this.heads);
      const rows = records.map((r) => {
        const chain = chainOf(r.tenant_id);
        const head = heads.get(chain) ?? { seq: 0, hash: GENESIS_HASH };
        const record = JSON.stringify(r);
        const next = { seq: head.seq + 1, hash: chainHash(head.hash, record) };
        heads.set(chain, next);
        return { ...columns(r), record, kind: r.kind, chain, chain_seq: next.seq, prev_hash: head.hash, record_hash: next.hash };
      });
      this.insertBatch(rows);
      this.heads = heads; // only once the transaction committed
    });
  }

  private insertBatch: (rows: Record<string, unknown>[]) => void = (rows) => {
    const sqlite = rawSqlite(this.db);
    const insert = sqlite.prepare(
      `insert into audit_records (${INSERT_COLUMNS.join(', ')}) values (${INSERT_COLUMNS.map((c) => `@${c}`).join(', ')})`,
    );
    this.insertBatch = sqlite.transaction((batch: Record<string, unknown>[]) => {
      for (const row of batch) insert.run(row);
    });
    this.insertBatch(rows);
  };

  /**
   * Deletes a tenant's records older than `before` and appends a retention event to its chain
   * that names the first kept record, so the shortened chain still verifies.
   */
  async prune(tenantId: string | null, before: number, actor: string): Promise<RetentionEvent> {
    const chain = chainOf(tenantId);
    return this.db.transaction().execute(async (trx) => {
      const deleted = await trx.deleteFrom('audit_records').where('chain', '=', chain).where('received_at', '<', before).where('kind', '!=', 'retention').executeTakeFirst();
      const at = Date.now();
      const nothing: RetentionEvent = { event: 'retention', chain, deleted_before: new Date(before).toISOString(), deleted_count: 0, first_kept_seq: null, first_kept_prev_hash: null, at: new Date(at).toISOString(), actor };
      if (Number(deleted.numDeletedRows) === 0) return nothing; // nothing to record
      // Older retention events go too: the new one vouches for the new start.
      await trx.deleteFrom('audit_records').where('chain', '=', chain).where('received_at', '<', before).where('kind', '=', 'retention').execute();
      const first = await trx.selectFrom('audit_records').select(['chain_seq', 'prev_hash']).where('chain', '=', chain).orderBy('chain_seq').limit(1).executeTakeFirst();
      const event: RetentionEvent = {
        event: 'retention',
        chain,
        deleted_before: new Date(before).toISOString(),
        deleted_count: Number(deleted.numDeletedRows),
        first_kept_seq: first?.chain_seq ?? null,
        first_kept_prev_hash: first?.prev_hash ?? null,
        at: new Date(at).toISOString(),
        actor,
      };
      const head = this.heads.get(chain) ?? { seq: 0, hash: GENESIS_HASH };
      const record = JSON.stringify(event);
      const next = { seq: head.seq + 1, hash: chainHash(head.hash, record) };
      await trx
        .insertInto('audit_records')
        .values({
          decision_id: `evt_retention_${at}`,
          received_at: at,
          tenant_id: tenantId,
          team_id: null,
          agent_id: null,
          key_id: null,
          endpoint: '(retention)',
          model_requested: null,
          model_resolved: null,
          provider: null,
          stream: 0,
          policy_outcome: '',
          risk_score: 0,
          http_status: 0,
          error_code: null,
          input_tokens: null,
          output_tokens: null,
          cost_usd: 0,
          budget_reserved_usd: 0,
          record,
          kind: 'retention',
          chain,
          chain_seq: next.seq,
          prev_hash: head.hash,
          record_hash: next.hash,
        })
        .execute();
      this.heads.set(chain, next);
      return event;
    });
  }

  /** Rows migrated from before the chain existed have positions but no hashes yet. */
  private async sealUnhashed(): Promise<void> {
    const rows = await this.db.selectFrom('audit_records').select(['seq', 'chain', 'chain_seq', 'record']).where('record_hash', '=', '').orderBy('chain').orderBy('chain_seq').execute();
    if (rows.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      let chain = '';
      let prev = GENESIS_HASH;
      for (const r of rows) {
        if (r.chain !== chain) {
          chain = r.chain;
          const before = await trx.selectFrom('audit_records').select('record_hash').where('chain', '=', chain).where('chain_seq', '=', r.chain_seq - 1).executeTakeFirst();
          prev = before?.record_hash || GENESIS_HASH;
        }
        const hash = chainHash(prev, r.record);
        await trx.updateTable('audit_records').set({ prev_hash: prev, record_hash: hash }).where('seq', '=', r.seq).execute();
        prev = hash;
      }
    });
  }
}

function columns(r: AuditRecord) {
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
    budget_reserved_usd: r.budget_reserved_usd,
  };
}
