import type { Kysely, Selectable } from 'kysely';
import type { PolicyStore, PolicyVersion } from '../types.js';
import type { PolicyVersionsTable, SqliteTables } from './database.js';

/** Policy versions in SQLite (queries moved from main.ts and routes/admin/policies.ts). */
export class SqlitePolicyStore implements PolicyStore {
  constructor(private readonly db: Kysely<SqliteTables>) {}

  async put(v: PolicyVersion): Promise<void> {
    await this.db.insertInto('policy_versions').values({ name: v.name, version: v.version, config: JSON.stringify(v.config), actor: v.actor, created_at: v.createdAt }).execute();
  }

  async latest(): Promise<PolicyVersion[]> {
    const rows = await this.db
      .selectFrom('policy_versions as p')
      .selectAll()
      .where(({ eb, selectFrom }) => eb('p.id', '=', selectFrom('policy_versions as q').select((q) => q.fn.max('q.id').as('m')).whereRef('q.name', '=', 'p.name')))
      .orderBy('p.name')
      .execute();
    return rows.map(toVersion);
  }

  async list(name: string): Promise<PolicyVersion[]> {
    return (await this.db.selectFrom('policy_versions').selectAll().where('name', '=', name).orderBy('id', 'desc').execute()).map(toVersion);
  }
}

function toVersion(r: Selectable<PolicyVersionsTable>): PolicyVersion {
  return { name: r.name, version: r.version, config: JSON.parse(r.config), actor: r.actor, createdAt: r.created_at };
}
