/** Stored Responses in PostgreSQL: the same rows as SQLite's, with `native` a boolean. */
import type { Kysely } from 'kysely';
import type { ResponseStore, StoredResponse } from '../types.js';
import type { PgResponsesTable, PostgresTables } from './database.js';

export class PostgresResponseStore implements ResponseStore {
  constructor(
    private readonly db: Kysely<PostgresTables>,
    private readonly clock: () => number = Date.now,
  ) {}

  async put(tenantId: string, stored: StoredResponse): Promise<void> {
    const row: PgResponsesTable = {
      id: stored.id,
      tenant_id: tenantId,
      created_at: stored.createdAt,
      expires_at: stored.expiresAt,
      model: stored.model,
      provider: stored.provider,
      native: stored.native,
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
      native: row.native,
      inputItems: JSON.parse(row.input_items) as unknown[],
      outputItems: JSON.parse(row.output_items) as unknown[],
      response: JSON.parse(row.response) as unknown,
    };
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('responses').where('id', '=', id).where('tenant_id', '=', tenantId).where('expires_at', '>', this.clock()).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteExpired(now: number): Promise<number> {
    const result = await this.db.deleteFrom('responses').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
