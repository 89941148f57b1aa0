/**
 * Runtime entities and sealed provider credentials, one implementation for SQLite and
 * PostgreSQL (the same tables). Each write bumps the one-row `config_revision` in the same
 * transaction, so `revision()` tells a replica in one read whether it is behind.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ConfigStore, EntityKind, SealedCredential, StoredEntity } from './types.js';
import type { ConfigEntitiesTable, ConfigRevisionTable, ProviderCredentialsTable } from './sqlite/database.js';

interface ConfigTables {
  config_entities: ConfigEntitiesTable;
  provider_credentials: ProviderCredentialsTable;
  config_revision: ConfigRevisionTable;
}
type ConfigDb = Kysely<ConfigTables>;

export class KyselyConfigStore<DB extends ConfigTables> implements ConfigStore {
  private readonly db: ConfigDb;

  constructor(db: Kysely<DB>) {
    // Kysely's table types are invariant: the store sees only the tables it uses.
    this.db = db as unknown as ConfigDb;
  }

  async load(): Promise<{ revision: number; entities: StoredEntity[]; credentials: SealedCredential[] }> {
    // One transaction: the revision matches the rows read with it.
    return this.db.transaction().execute(async (trx) => ({
      revision: await currentRevision(trx),
      entities: (await trx.selectFrom('config_entities').selectAll().orderBy('kind').orderBy('id').execute()).map(toEntity),
      credentials: (await trx.selectFrom('provider_credentials').select(['provider', 'sealed', 'actor', 'updated_at']).orderBy('provider').execute()).map((r) => ({
        provider: r.provider,
        sealed: r.sealed,
        actor: r.actor,
        updatedAt: Number(r.updated_at),
      })),
    }));
  }

  revision(): Promise<number> {
    return currentRevision(this.db);
  }

  async get(kind: EntityKind, id: string): Promise<StoredEntity | undefined> {
    const row = await this.db.selectFrom('config_entities').selectAll().where('kind', '=', kind).where('id', '=', id).executeTakeFirst();
    return row && toEntity(row);
  }

  put(e: StoredEntity): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const revision = await bump(trx);
      const row = { kind: e.kind, id: e.id, tenant_id: e.tenantId, body: JSON.stringify(e.body), actor: e.actor, created_at: e.createdAt, updated_at: e.updatedAt, revision };
      await trx
        .insertInto('config_entities')
        .values(row)
        .onConflict((oc) => oc.columns(['kind', 'id']).doUpdateSet({ tenant_id: row.tenant_id, body: row.body, actor: row.actor, updated_at: row.updated_at, revision }))
        .execute();
      return revision;
    });
  }

  delete(kind: EntityKind, id: string): Promise<number | null> {
    return this.db.transaction().execute(async (trx) => {
      const res = await trx.deleteFrom('config_entities').where('kind', '=', kind).where('id', '=', id).executeTakeFirst();
      return Number(res.numDeletedRows) > 0 ? bump(trx) : null;
    });
  }

  putCredential(c: SealedCredential): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const revision = await bump(trx);
      await trx
        .insertInto('provider_credentials')
        .values({ provider: c.provider, sealed: c.sealed, actor: c.actor, updated_at: c.updatedAt, revision })
        .onConflict((oc) => oc.column('provider').doUpdateSet({ sealed: c.sealed, actor: c.actor, updated_at: c.updatedAt, revision }))
        .execute();
      return revision;
    });
  }

  deleteCredential(provider: string): Promise<number | null> {
    return this.db.transaction().execute(async (trx) => {
      const res = await trx.deleteFrom('provider_credentials').where('provider', '=', provider).executeTakeFirst();
      return Number(res.numDeletedRows) > 0 ? bump(trx) : null;
    });
  }
}

async function currentRevision(db: ConfigDb | Transaction<ConfigTables>): Promise<number> {
  const row = await db.selectFrom('config_revision').select('value').where('id', '=', 1).executeTakeFirst();
  return Number(row?.value ?? 0);
}

/** The next revision; the row lock it takes (PostgreSQL) orders concurrent writers. */
async function bump(trx: Transaction<ConfigTables>): Promise<number> {
  const row = await trx
    .updateTable('config_revision')
    .set((eb) => ({ value: eb('value', '+', 1) }))
    .where('id', '=', 1)
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value);
}

function toEntity(row: Selectable<ConfigEntitiesTable>): StoredEntity {
  return {
    kind: row.kind as EntityKind,
    id: row.id,
    tenantId: row.tenant_id,
    body: JSON.parse(row.body) as Record<string, unknown>,
    actor: row.actor,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
