/**
 * The PostgreSQL back end: a `pg` pool behind Kysely's PostgresDialect. Opening it migrates the
 * database under a session advisory lock, so replicas starting together apply each migration
 * once while the others wait, then find nothing left to do.
 */
import { Kysely, Migrator, PostgresDialect, type Generated, type Migration } from 'kysely';
import pg from 'pg';
import type { StoredRow } from '../../audit/chain.js';
import type { AdminSessionsTable } from '../sqlite/database.js';
import { postgresMigrations } from './migrations.js';
import type { ConfigEntitiesTable, ConfigRevisionTable, ProviderCredentialsTable } from '../sqlite/database.js';

export interface PgApiKeysTable {
  id: string;
  hash: string;
  tenant_id: string;
  agent_id: string;
  hint: string;
  created_at: number;
  revoked_at: number | null;
  expires_at: number | null;
}

export interface PgAuditRecordsTable extends Omit<StoredRow, 'seq'> {
  seq: Generated<number>;
}

/** Each chain's newest position and hash; its row lock serializes appends to that chain across replicas. */
export interface PgAuditChainHeadsTable {
  chain: string;
  seq: number;
  hash: string;
}

export interface PgReviewItemsTable {
  id: string;
  decision_id: string;
  tenant_id: string;
  mode: string;
  status: string;
  created_at: number;
  decided_at: number | null;
  /** The gateway instance holding the request (a restart fails only its own holds). */
  owner: string | null;
  item: string;
}

export interface PgPolicyVersionsTable {
  id: Generated<number>;
  name: string;
  version: string;
  config: string;
  actor: string;
  created_at: number;
}

export interface PgResponsesTable {
  id: string;
  tenant_id: string;
  created_at: number;
  expires_at: number;
  model: string;
  provider: string;
  native: boolean;
  input_items: string;
  output_items: string;
  response: string;
}

export interface PostgresTables {
  api_keys: PgApiKeysTable;
  audit_records: PgAuditRecordsTable;
  audit_chain_heads: PgAuditChainHeadsTable;
  review_items: PgReviewItemsTable;
  policy_versions: PgPolicyVersionsTable;
  responses: PgResponsesTable;
  /** The same columns as SQLite's (epoch ms as bigint). */
  admin_sessions: AdminSessionsTable;
  config_entities: ConfigEntitiesTable;
  provider_credentials: ProviderCredentialsTable;
  config_revision: ConfigRevisionTable;
}

/** Any fixed 64-bit key: every replica of every version contends for the same one. */
const MIGRATION_LOCK = 0x6f6d6567_61; // "omega"

// Epoch milliseconds, positions and counts are bigint columns; they stay far below 2^53, so
// they come back as numbers (pg returns them as strings by default). Sums of bigints are numeric.
const INT8 = 20;
const NUMERIC = 1700;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface PostgresOptions {
  poolSize?: number;
}

/** Opens a pool on a `postgres://` URL and migrates the database (see the advisory lock above). */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<Kysely<PostgresTables>> {
  // A connect that hangs (host gone, packets dropped) fails after 5 s, so an outage is noticed (store/availability.ts) rather than waited on.
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, types, connectionTimeoutMillis: 5_000 });
  // A connection error (server restart or crash) must not crash the process: the pool reports an
  // idle client's, and a checked-out client's (between two statements, say) goes to its own
  // listener; the query in flight fails instead, and the pool drops the client when it is released.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<PostgresTables>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migratePostgres(url, db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

/**
 * Applies pending migrations while holding `pg_advisory_lock` on a dedicated connection (not one
 * of the pool's, so a pool of one cannot deadlock against itself). The lock is released when the
 * session ends even if this process dies mid-migration.
 */
export async function migratePostgres(url: string, db: Kysely<PostgresTables>): Promise<void> {
  const lock = new pg.Client({ connectionString: url });
  lock.on('error', () => {});
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    // The migration tables live in the connection's own schema (search_path), named explicitly:
    // unqualified, Kysely would take another schema's tables of the same name for ours.
    const { rows } = await lock.query<{ schema: string | null }>('select current_schema() as schema');
    const migrationTableSchema = rows[0]?.schema ?? 'public';
    const migrator = new Migrator({ db, migrationTableSchema, provider: { getMigrations: async () => postgresMigrations as Record<string, Migration> } });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
  } finally {
    await lock.end(); // ends the session, which releases the lock
  }
}
