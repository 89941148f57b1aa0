import { sql, type Kysely } from 'kysely';
import type { Stores } from '../types.js';
import { KyselyAuditQuery } from '../audit-query.js';
import { PostgresAuditSink } from './audit-sink.js';
import { openPostgres, type PostgresOptions, type PostgresTables } from './database.js';
import { KyselyKeyStore } from '../key-store.js';
import { KyselyConfigStore } from '../config-store.js';
import { PostgresPolicyStore } from './policy-store.js';
import { KyselyResponseStore } from '../response-store.js';
import { KyselyReviewStore } from '../review-store.js';
import { KyselySessionStore } from '../session-store.js';

export interface PostgresStores extends Stores {
  kind: 'postgres';
  db: Kysely<PostgresTables>;
}

/** Every store on one PostgreSQL database (`postgres://…`), migrated on open. */
export async function openPostgresStores(url: string, options: PostgresOptions = {}): Promise<PostgresStores> {
  const db = await openPostgres(url, options);
  return {
    kind: 'postgres',
    db,
    keys: new KyselyKeyStore(db),
    audit: new PostgresAuditSink(db),
    auditQuery: new KyselyAuditQuery(db),
    policies: new PostgresPolicyStore(db),
    reviews: new KyselyReviewStore(db, true),
    responses: new KyselyResponseStore(db, true),
    sessions: new KyselySessionStore(db),
    config: new KyselyConfigStore(db),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
