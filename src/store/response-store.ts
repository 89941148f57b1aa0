/**
 * Stored Responses (conversation state), one implementation for SQLite and PostgreSQL: the same
 * rows, except that `native` is an integer in SQLite and a boolean in PostgreSQL.
 */
import type { Kysely } from 'kysely';
import type { ResponseStore, StoredResponse } from './types.js';
import type { ResponsesTable } from './sqlite/database.js';

/** The row as either back end stores it. */
type ResponsesRow = Omit<ResponsesTable, 'native'> & { native: number | boolean };
type ResponsesDb = Kysely<{ responses: ResponsesRow }>;

/** Expired responses deleted per statement. */
const EXPIRY_SLICE = 1_000;

export class KyselyResponseStore<DB extends { responses: ResponsesRow }> implements ResponseStore {
  private readonly db: ResponsesDb;

  constructor(
    db: Kysely<DB>,
    /** The `native` column is a boolean (PostgreSQL) rather than 0/1 (SQLite). */
    private readonly booleanColumn: boolean,
    private readonly clock: () => number = Date.now,
  ) {
    // Kysely's table types are invariant: the store sees only the table it uses.
    this.db = db as unknown as ResponsesDb;
  }

  async put(tenantId: string, stored: StoredResponse): Promise<void> {
    const row: ResponsesRow = {
      id: stored.id,
      tenant_id: tenantId,
      created_at: stored.createdAt,
      expires_at: stored.expiresAt,
      model: stored.model,
      provider: stored.provider,
      native: this.booleanColumn ? stored.native : stored.native ? 1 : 0,
      input_items: JSON.stringify(stored.inputItems),
      output_items: JSON.stringify(stored.outputItems),
      response: JSON.stringify(stored.response),
    };
    const { id: _id, tenant_id: _tenant, ...rest } = row;
    // Replaces only the same tenant's row: an id never moves to another tenant.
    await this.db
      .insertInto('responses')
      .values(row)
      .onConflict((oc) => oc.column('id').doUpdateSet(rest).where('responses.tenant_id', '=', tenantId))
      .execute();
  }

  async get(tenantId: string, id: string): Promise<StoredResponse | undefined> {
    const row = await this.db
      .selectFrom('responses')
      .selectAll()
      .where('id', '=', id)
      .where('tenant_id', '=', tenantId)
      .where('expires_at', '>', this.clock())
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      tenantId: row.tenant_id,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      model: row.model,
      provider: row.provider,
      native: row.native === true || row.native === 1,
      inputItems: JSON.parse(row.input_items) as unknown[],
      outputItems: JSON.parse(row.output_items) as unknown[],
      response: JSON.parse(row.response) as unknown,
    };
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('responses').where('id', '=', id).where('tenant_id', '=', tenantId).where('expires_at', '>', this.clock()).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** In slices of `EXPIRY_SLICE` rows with the event loop free between them (SQLite runs on it). */
  async deleteExpired(now: number): Promise<number> {
    let total = 0;
    for (;;) {
      const expired = this.db.selectFrom('responses').select('id').where('expires_at', '<=', now).limit(EXPIRY_SLICE);
      const deleted = Number((await this.db.deleteFrom('responses').where('id', 'in', expired).executeTakeFirst()).numDeletedRows);
      total += deleted;
      if (deleted < EXPIRY_SLICE) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
