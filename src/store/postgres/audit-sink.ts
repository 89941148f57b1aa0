/**
 * The audit trail in PostgreSQL, appended by many replicas at once.
 *
 * Chain consistency across writers: every chain (tenant) has one row in `audit_chain_heads`
 * holding its newest position and hash. An append transaction
 *   1. inserts missing head rows (`on conflict do nothing`),
 *   2. locks the batch's head rows with `SELECT … FOR UPDATE`, in chain-name order (so two
 *      batches touching the same chains cannot deadlock),
 *   3. assigns positions and hashes from the locked heads, inserts the records, and moves the
 *      heads forward, then commits.
 * A second replica appending to the same chain waits at step 2 until the first commits, then
 * reads the head the first one wrote (READ COMMITTED re-reads a row after waiting for its lock),
 * so positions stay consecutive and each record links to its real predecessor. Chains of
 * different tenants never wait for each other. A rolled-back append leaves the head untouched.
 * Retention (`prune`) takes the same head lock, so a pruning run and appends serialize too.
 */
import type { Kysely, Transaction } from 'kysely';
import { chainHash, chainOf, GENESIS_HASH, type RetentionEvent } from '../../audit/chain.js';
import type { TrailRecord } from '../../audit/admin-event.js';
import type { AuditRetention, AuditSink } from '../types.js';
import type { PostgresTables } from './database.js';
import { auditColumns as columns } from '../audit-columns.js';

interface Head {
  seq: number;
  hash: string;
}

/**
 * Rows serialised, hashed and sent per INSERT within a group commit's one transaction: the event
 * loop is free during each round trip, so no more than this many records' synchronous work (about
 * a millisecond) runs at a time. 26 parameters a row stays far below PostgreSQL's 65,535.
 */
const APPEND_SLICE = 64;

export class PostgresAuditSink implements AuditSink, AuditRetention {
  constructor(private readonly db: Kysely<PostgresTables>) {}

  async append(records: readonly TrailRecord[]): Promise<void> {
    if (records.length === 0) return;
    await retryOnDeadlock(() =>
      this.db.transaction().execute(async (trx) => {
        const heads = await lockHeads(trx, [...new Set(records.map((r) => chainOf(r.tenant_id)))]);
        for (let i = 0; i < records.length; i += APPEND_SLICE) {
          const rows = records.slice(i, i + APPEND_SLICE).map((r) => {
            const chain = chainOf(r.tenant_id);
            const head = heads.get(chain)!;
            const record = JSON.stringify(r);
            const next = { seq: head.seq + 1, hash: chainHash(head.hash, record) };
            heads.set(chain, next);
            return { ...columns(r), record, kind: r.kind, chain, chain_seq: next.seq, prev_hash: head.hash, record_hash: next.hash };
          });
          await trx.insertInto('audit_records').values(rows).execute();
        }
        for (const [chain, head] of heads) await trx.updateTable('audit_chain_heads').set({ seq: head.seq, hash: head.hash }).where('chain', '=', chain).execute();
      }),
    );
  }

  async prune(tenantId: string | null, before: number, actor: string): Promise<RetentionEvent> {
    const chain = chainOf(tenantId);
    return retryOnDeadlock(() =>
      this.db.transaction().execute(async (trx) => {
        const head = (await lockHeads(trx, [chain])).get(chain)!;
        const deleted = await trx.deleteFrom('audit_records').where('chain', '=', chain).where('received_at', '<', before).where('kind', '!=', 'retention').executeTakeFirst();
        const at = Date.now();
        const nothing: RetentionEvent = { event: 'retention', chain, deleted_before: new Date(before).toISOString(), deleted_count: 0, first_kept_seq: null, first_kept_prev_hash: null, at: new Date(at).toISOString(), actor };
        if (Number(deleted.numDeletedRows) === 0) return nothing;
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
        await trx.updateTable('audit_chain_heads').set(next).where('chain', '=', chain).execute();
        return event;
      }),
    );
  }
}

/** Creates missing head rows, then locks the heads of `chains` in name order and returns them. */
async function lockHeads(trx: Transaction<PostgresTables>, chains: string[]): Promise<Map<string, Head>> {
  chains.sort();
  await trx
    .insertInto('audit_chain_heads')
    .values(chains.map((chain) => ({ chain, seq: 0, hash: GENESIS_HASH })))
    .onConflict((oc) => oc.column('chain').doNothing())
    .execute();
  const rows = await trx.selectFrom('audit_chain_heads').selectAll().where('chain', 'in', chains).orderBy('chain').forUpdate().execute();
  return new Map(rows.map((r) => [r.chain, { seq: r.seq, hash: r.hash }]));
}

/** Lock ordering makes deadlocks unlikely; if PostgreSQL still picks this transaction as a victim, run it again. */
async function retryOnDeadlock<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if ((err as { code?: string }).code !== '40P01' || attempt >= 3) throw err;
    }
  }
}
