import { sql, type Kysely } from 'kysely';
import type { Stores } from '../types.js';
import { KyselyAuditQuery } from '../audit-query.js';
import { SqliteAuditSink } from './audit-sink.js';
import { openSqlite, type SqliteTables } from './database.js';
import { KyselyKeyStore } from '../key-store.js';
import { KyselyConfigStore } from '../config-store.js';
import { SqlitePolicyStore } from './policy-store.js';
import { KyselyResponseStore } from '../response-store.js';
import { KyselyReviewStore } from '../review-store.js';
import { KyselySessionStore } from '../session-store.js';

export interface SqliteStores extends Stores {
  kind: 'sqlite';
  /** The embedded database itself (tests and tools that inspect the file). */
  db: Kysely<SqliteTables>;
}

/** Every store on one embedded SQLite file (`sqlite://PATH`), migrated on open. */
export async function openSqliteStores(url: string, synchronous: 'NORMAL' | 'FULL' = 'NORMAL'): Promise<SqliteStores> {
  const db = await openSqlite(url, synchronous);
  try {
    return {
      kind: 'sqlite',
      db,
      keys: new KyselyKeyStore(db),
      audit: await SqliteAuditSink.open(db),
      auditQuery: new KyselyAuditQuery(db),
      policies: new SqlitePolicyStore(db),
      reviews: new KyselyReviewStore(db, false),
      responses: new KyselyResponseStore(db, false),
      sessions: new KyselySessionStore(db),
      config: new KyselyConfigStore(db),
      ping: async () => {
        await sql`select 1`.execute(db);
      },
      close: () => db.destroy(),
    };
  } catch (err) {
    await db.destroy();
    throw err;
  }
}
