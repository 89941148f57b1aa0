/**
 * The embedded store: one SQLite file (WAL mode) behind Kysely. Opening it runs the migrations,
 * so a fresh `./data/omega.db` is created on first start with nothing to install.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Generated, type Migration } from 'kysely';
import type { StoredRow } from '../../audit/chain.js';
import { migrations } from './migrations.js';

export interface ApiKeysTable {
  id: string;
  hash: string;
  tenant_id: string;
  agent_id: string;
  hint: string;
  created_at: number;
  revoked_at: number | null;
  expires_at: number | null;
}

/** An audit row as stored (columns described in audit/chain.ts); `seq` is assigned by SQLite. */
export interface AuditRecordsTable extends Omit<StoredRow, 'seq'> {
  seq: Generated<number>;
}

export interface ReviewItemsTable {
  id: string;
  decision_id: string;
  tenant_id: string;
  mode: string;
  status: string;
  created_at: number;
  decided_at: number | null;
  /** The gateway instance holding the request (hold mode); null for flag items and older rows. */
  owner: string | null;
  /** The whole ReviewItem as JSON. */
  item: string;
}

export interface PolicyVersionsTable {
  id: Generated<number>;
  name: string;
  version: string;
  /** The policy as submitted (JSON). */
  config: string;
  actor: string;
  created_at: number;
}

/** A stored Responses API response (store/types.ts StoredResponse); items and response as JSON. */
export interface ResponsesTable {
  id: string;
  tenant_id: string;
  created_at: number;
  expires_at: number;
  model: string;
  provider: string;
  native: number;
  input_items: string;
  output_items: string;
  response: string;
}

/** A console session (store/types.ts AdminSession): the principal's fields as columns. */
export interface AdminSessionsTable {
  /** sha256 (hex) of the session id; the id itself is never stored. */
  id_hash: string;
  principal_id: string;
  principal_kind: string;
  role: string;
  tenant: string | null;
  name: string | null;
  created_at: number;
  last_seen_at: number;
  /** At or before expires_at: when the session ends unless touched. */
  idle_expires_at: number;
  expires_at: number;
}

/** Runtime entities of the admin API (store/config-store.ts). */
export interface ConfigEntitiesTable {
  kind: string;
  id: string;
  tenant_id: string | null;
  body: string;
  actor: string;
  created_at: number;
  updated_at: number;
  revision: number;
}

/** Provider credentials, sealed with the master key. */
export interface ProviderCredentialsTable {
  provider: string;
  sealed: string;
  actor: string;
  updated_at: number;
  revision: number;
}

/** One row (id 1): the store-wide revision of entities and credentials. */
export interface ConfigRevisionTable {
  id: number;
  value: number;
}

/** The embedded store's query handle, for the few callers outside store/ that need its type (tests read the file through it). */
export type SqliteDb = Kysely<SqliteTables>;

export interface SqliteTables {
  api_keys: ApiKeysTable;
  audit_records: AuditRecordsTable;
  review_items: ReviewItemsTable;
  policy_versions: PolicyVersionsTable;
  responses: ResponsesTable;
  admin_sessions: AdminSessionsTable;
  config_entities: ConfigEntitiesTable;
  provider_credentials: ProviderCredentialsTable;
  config_revision: ConfigRevisionTable;
}

/** Opens (creating if needed) the SQLite database named by a `sqlite://PATH` URL and migrates it. */
export async function openSqlite(url: string, synchronous: 'NORMAL' | 'FULL' = 'NORMAL'): Promise<Kysely<SqliteTables>> {
  const path = sqlitePath(url);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit survives a process crash; an OS crash may lose the last
  // commits. FULL (strict audit durability) fsyncs every commit and survives both.
  sqlite.pragma(`synchronous = ${synchronous}`);
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<SqliteTables>({ dialect: new SqliteDialect({ database: sqlite }) });
  rawHandles.set(db, sqlite);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations as Record<string, Migration> },
  });
  const { error } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

const rawHandles = new WeakMap<Kysely<SqliteTables>, Database.Database>();

/**
 * The better-sqlite3 handle behind a Kysely instance, for the one hot write (audit batches) where
 * a prepared statement beats building SQL per row. Use it only inside `db.connection().execute()`,
 * which holds Kysely's connection lock so no Kysely transaction can interleave.
 */
export function rawSqlite(db: Kysely<SqliteTables>): Database.Database {
  const raw = rawHandles.get(db);
  if (!raw) throw new Error('not an embedded SQLite database');
  return raw;
}

export function sqlitePath(url: string): string {
  const m = /^sqlite:\/\/(.+)$/.exec(url);
  if (!m) throw new Error(`storage.url must be sqlite://PATH, got "${url}"`);
  return m[1] === ':memory:' ? ':memory:' : resolve(m[1]!);
}
