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
import { SqliteAuditBatcher } from './audit-batch.js';
import { rawSqlite, type SqliteTables } from './database.js';

/**
 * Records serialised, hashed and inserted per turn of the event loop within a group commit:
 * about half a millisecond of work (a whole 200 ms interval at 2,000 req/s held the loop ~16 ms).
 */
const APPEND_SLICE = 16;
/** Records deleted per retention transaction (see `prune`). */
const PRUNE_SLICE = 2_000;

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

  private batcher: SqliteAuditBatcher | undefined;

  async append(records: readonly TrailRecord[]): Promise<void> {
    // Prepared statements in one transaction, under Kysely's connection lock (other queries wait
    // for the commit, never join it): serialised, hashed and inserted APPEND_SLICE records at a
    // time with the event loop free in between, then committed once.
    await this.db.connection().execute(async () => {
      this.batcher ??= new SqliteAuditBatcher(rawSqlite(this.db));
      await this.batcher.appendInSlices(records, APPEND_SLICE, () => new Promise((resolve) => setImmediate(resolve)));
    });
  }

  /**
   * Deletes a tenant's records older than `before` and appends a retention event to its chain
   * that names the first kept record, so the shortened chain still verifies.
   *
   * SQLite runs on the event loop, so a large deletion goes in slices of `PRUNE_SLICE` records,
   * each a complete retention run of its own (delete the oldest, append an event naming the new
   * start) in its own short transaction, with the event loop free between slices: the chain
   * verifies after every slice, and no slice holds the loop for more than a few milliseconds.
   * Returns one event covering the whole run (its first kept record is the final start).
   */
  async prune(tenantId: string | null, before: number, actor: string): Promise<RetentionEvent> {
    let total: RetentionEvent | undefined;
    for (;;) {
      const slice = await this.pruneSlice(tenantId, before, actor, PRUNE_SLICE);
      total = total ? { ...slice, deleted_count: total.deleted_count + slice.deleted_count, first_kept_seq: slice.first_kept_seq ?? total.first_kept_seq, first_kept_prev_hash: slice.first_kept_prev_hash ?? total.first_kept_prev_hash } : slice;
      if (slice.deleted_count < PRUNE_SLICE) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private async pruneSlice(tenantId: string | null, before: number, actor: string, limit: number): Promise<RetentionEvent> {
    const chain = chainOf(tenantId);
    return this.db.transaction().execute(async (trx) => {
      // The head is read before deleting: when every record goes, the event still links to it.
      const last = await trx.selectFrom('audit_records').select(['chain_seq', 'record_hash']).where('chain', '=', chain).orderBy('chain_seq', 'desc').limit(1).executeTakeFirst();
      const head: Head = last ? { seq: last.chain_seq, hash: last.record_hash } : { seq: 0, hash: GENESIS_HASH };
      // The oldest records first, so what remains is the end of the chain.
      const doomed = trx.selectFrom('audit_records').select('seq').where('chain', '=', chain).where('received_at', '<', before).where('kind', '!=', 'retention').orderBy('chain_seq').limit(limit);
      const deleted = await trx.deleteFrom('audit_records').where('seq', 'in', doomed).executeTakeFirst();
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
        // Nothing kept: the chain goes on from this event, which vouches for itself.
        first_kept_seq: first?.chain_seq ?? head.seq + 1,
        first_kept_prev_hash: first?.prev_hash ?? head.hash,
        at: new Date(at).toISOString(),
        actor,
      };
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
