/** Runtime API keys (hashed), one implementation for SQLite and PostgreSQL: the same table. */
import type { Kysely, Selectable } from 'kysely';
import type { ApiKeyRecord, KeyStore } from './types.js';
import type { ApiKeysTable } from './sqlite/database.js';

type KeysDb = Kysely<{ api_keys: ApiKeysTable }>;

export class KyselyKeyStore<DB extends { api_keys: ApiKeysTable }> implements KeyStore {
  private readonly db: KeysDb;

  constructor(db: Kysely<DB>) {
    // Kysely's table types are invariant: the store sees only the table it uses.
    this.db = db as unknown as KeysDb;
  }

  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row && toRecord(row);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async create(key: ApiKeyRecord): Promise<void> {
    await this.db
      .insertInto('api_keys')
      .values({ id: key.id, hash: key.hash, tenant_id: key.tenantId, agent_id: key.agentId, hint: key.hint, created_at: key.createdAt.getTime(), revoked_at: key.revokedAt?.getTime() ?? null, expires_at: key.expiresAt?.getTime() ?? null })
      .execute();
  }

  async list(filter: { tenantId?: string } = {}): Promise<ApiKeyRecord[]> {
    let q = this.db.selectFrom('api_keys').selectAll().orderBy('created_at');
    if (filter.tenantId) q = q.where('tenant_id', '=', filter.tenantId);
    return (await q.execute()).map(toRecord);
  }

  async revoke(id: string, at = new Date()): Promise<boolean> {
    const res = await this.db.updateTable('api_keys').set({ revoked_at: at.getTime() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
}

function toRecord(row: Selectable<ApiKeysTable>): ApiKeyRecord {
  return {
    id: row.id,
    hash: row.hash,
    tenantId: row.tenant_id,
    agentId: row.agent_id,
    hint: row.hint,
    createdAt: new Date(row.created_at),
    revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
    expiresAt: row.expires_at === null || row.expires_at === undefined ? null : new Date(row.expires_at),
  };
}
