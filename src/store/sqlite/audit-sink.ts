/**
 * The audit trail in SQLite, append-only and hash-chained per tenant (see audit/chain.ts).
 * Several processes may append to one file (`omega serve --workers N`, replicas on one host), so
 * each batch reads its chains' heads inside the same write transaction (BEGIN IMMEDIATE) that
 * inserts it: one indexed lookup per chain per batch.
 */
import type { Kysely } from 'kysely';
import { chainHash, chainOf, GENESIS_HASH, type RetentionEvent } from '../../audit/chain.js';
import type { TrailRecord } from '../../audit/admin-event.js';
import type { AuditRetention, AuditSink } from '../types.js';
import { rawSqlite, type SqliteTables } from './database.js';

const INSERT_COLUMNS = [
  'decision_id', 'received_at', 'tenant_id', 'team_id', 'agent_id', 'key_id', 'endpoint', 'model_requested', 'model_resolved', 'provider',
  'stream', 'policy_outcome', 'risk_score', 'http_status', 'error_code', 'input_tokens', 'output_tokens', 'cost_usd', 'budget_reserved_usd', 'total_latency_ms',
  'record', 'kind', 'chain', 'chain_seq', 'prev_hash', 'record_hash',
] as const;

interface Head {
  seq: number;
  hash: string;
}

export class SqliteAuditSink implements AuditSink, AuditRetention {
  private constructor(private readonly db: Kysely<SqliteTables>) {}

  /** Opens the sink: hashes rows written before chaining existed. */
  static async open(db: Kysely<SqliteTables>): Promise<SqliteAuditSink> {
    const sink = new SqliteAuditSink(db);
    await sink.sealUnhashed();
    return sink;
  }

  async append(records: readonly TrailRecord[]): Promise<void> {
    // A prepared statement in one synchronous transaction, under Kysely's connection lock: the
    // group commit costs a few microseconds a record instead of building SQL for every row.
    const rows = records.map((r) => ({ ...columns(r), record: JSON.stringify(r), kind: r.kind, chain: chainOf(r.tenant_id) }));
    await this.db.connection().execute(async () => this.insertBatch(rows));
  }

  private insertBatch: (rows: (Record<string, unknown> & { record: string; chain: string })[]) => void = (rows) => {
    const sqlite = rawSqlite(this.db);
    const insert = sqlite.prepare(
      `insert into audit_records (${INSERT_COLUMNS.join(', ')}) values (${INSERT_COLUMNS.map((c) => `@${c}`).join(', ')})`,
    );
    const headOf = sqlite.prepare<[string], { chain_seq: number; record_hash: string }>('select chain_seq, record_hash from audit_records where chain = ? order by chain_seq desc limit 1');
    const batch = sqlite.transaction((batch: (Record<string, unknown> & { record: string; chain: string })[]) => {
      const heads = new Map<string, Head>();
      for (const row of batch) {
        let head = heads.get(row.chain);
        if (!head) {
          const stored = headOf.get(row.chain);
          head = stored ? { seq: stored.chain_seq, hash: stored.record_hash } : { seq: 0, hash: GENESIS_HASH };
        }
        const next = { seq: head.seq + 1, hash: chainHash(head.hash, row.record) };
        heads.set(row.chain, next);
        insert.run({ ...row, chain_seq: next.seq, prev_hash: head.hash, record_hash: next.hash });
      }
    });
    // IMMEDIATE: the write lock is taken before the heads are read, so no other process appends in between.
    this.insertBatch = (rows) => batch.immediate(rows);
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
      const last = await trx.selectFrom('audit_records').select(['chain_seq', 'record_hash']).where('chain', '=', chain).orderBy('chain_seq', 'desc').limit(1).executeTakeFirst();
      const head: Head = last ? { seq: last.chain_seq, hash: last.record_hash } : { seq: 0, hash: GENESIS_HASH };
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

function columns(r: TrailRecord) {
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
    total_latency_ms: 'total_latency_ms' in r ? r.total_latency_ms : null,
  };
}
