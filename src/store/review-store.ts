/**
 * The review queue's store, one implementation for SQLite and PostgreSQL (their `review_items`
 * tables have the same columns). PostgreSQL also locks the row a decision reads, so "decide
 * once" holds across replicas; SQLite's single writer gives the same guarantee.
 */
import type { Kysely } from 'kysely';
import type { ReviewFilter, ReviewItem, ReviewStatus, ReviewStore } from '../review/types.js';
import type { ReviewItemsTable } from './sqlite/database.js';

type ReviewDb = Kysely<{ review_items: ReviewItemsTable }>;

export class KyselyReviewStore<DB extends { review_items: ReviewItemsTable }> implements ReviewStore {
  private readonly db: ReviewDb;

  constructor(
    db: Kysely<DB>,
    /** SELECT … FOR UPDATE in decide (PostgreSQL; SQLite has no row locks). */
    private readonly lockRows: boolean,
  ) {
    // Kysely's table types are invariant: the store sees only the table it uses.
    this.db = db as unknown as ReviewDb;
  }

  async create(item: ReviewItem): Promise<void> {
    await this.db
      .insertInto('review_items')
      .values({ id: item.id, decision_id: item.decisionId, tenant_id: item.tenantId, mode: item.mode, status: item.status, created_at: item.createdAt, decided_at: item.decidedAt, owner: item.owner ?? null, item: JSON.stringify(item) })
      .execute();
  }

  async get(id: string): Promise<ReviewItem | undefined> {
    const row = await this.db.selectFrom('review_items').select('item').where('id', '=', id).executeTakeFirst();
    return row && (JSON.parse(row.item) as ReviewItem);
  }

  async list(filter: ReviewFilter): Promise<ReviewItem[]> {
    let q = this.db.selectFrom('review_items').select(['item', 'created_at', 'id']).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(Math.min(filter.limit ?? 50, 500));
    if (filter.tenantId) q = q.where('tenant_id', '=', filter.tenantId);
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.before) {
      const cursor = await this.db.selectFrom('review_items').select(['created_at', 'id']).where('id', '=', filter.before).executeTakeFirst();
      if (cursor) q = q.where((eb) => eb.or([eb('created_at', '<', cursor.created_at), eb.and([eb('created_at', '=', cursor.created_at), eb('id', '<', cursor.id)])]));
    }
    return (await q.execute()).map((r) => JSON.parse(r.item) as ReviewItem);
  }

  async decide(id: string, status: Exclude<ReviewStatus, 'pending'>, reviewer: string | null, reason: string | null, at: number): Promise<ReviewItem | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const pending = trx.selectFrom('review_items').select('item').where('id', '=', id).where('status', '=', 'pending');
      // The row lock makes a second decider on another replica wait, then see it decided.
      const row = await (this.lockRows ? pending.forUpdate() : pending).executeTakeFirst();
      if (!row) return undefined;
      const item: ReviewItem = { ...(JSON.parse(row.item) as ReviewItem), status, reviewer, reason, decidedAt: at };
      await trx.updateTable('review_items').set({ status, decided_at: at, item: JSON.stringify(item) }).where('id', '=', id).where('status', '=', 'pending').execute();
      return item;
    });
  }

  async failPendingHolds(reason: string, at: number, owner?: string): Promise<ReviewItem[]> {
    let q = this.db.selectFrom('review_items').select('id').where('status', '=', 'pending').where('mode', '=', 'hold');
    // Another replica's holds still wait for their decision; rows from before owners were recorded are anyone's.
    if (owner !== undefined) q = q.where((eb) => eb.or([eb('owner', '=', owner), eb('owner', 'is', null)]));
    const rows = await q.execute();
    const failed: ReviewItem[] = [];
    for (const { id } of rows) {
      const item = await this.decide(id, 'failed', null, reason, at);
      if (item) failed.push(item);
    }
    return failed;
  }
}
