import type { Kysely, Selectable } from 'kysely';
import type { PolicyStore, PolicyVersion } from '../types.js';
import type { PgPolicyVersionsTable, PostgresTables } from './database.js';

export class PostgresPolicyStore implements PolicyStore {
  constructor(private readonly db: Kysely<PostgresTables>) {}

  async put(v: PolicyVersion): Promise<void> {
    await this.db.insertInto('policy_versions').values({ name: v.name, version: v.version, config: JSON.stringify(v.config), actor: v.actor, created_at: v.createdAt }).execute();
  }

  async latest(): Promise<PolicyVersion[]> {
    // The newest row per name: `distinct on` keeps the first row of each name in id-descending order.
    const rows = await this.db.selectFrom('policy_versions').selectAll().distinctOn('name').orderBy('name').orderBy('id', 'desc').execute();
    return rows.map(toVersion);
  }

  async list(name: string): Promise<PolicyVersion[]> {
    return (await this.db.selectFrom('policy_versions').selectAll().where('name', '=', name).orderBy('id', 'desc').execute()).map(toVersion);
  }
}

function toVersion(r: Selectable<PgPolicyVersionsTable>): PolicyVersion {
  return { name: r.name, version: r.version, config: JSON.parse(r.config), actor: r.actor, createdAt: r.created_at };
}
