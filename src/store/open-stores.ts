/**
 * The one place that turns `storage.url` into stores: `sqlite://PATH` opens the embedded file,
 * `postgres://…` / `postgresql://…` a connection pool (migrated on open, safe with many
 * replicas starting at once). The PostgreSQL driver is loaded only when configured.
 */
import type { PostgresStores } from './postgres/stores.js';
import { openSqliteStores, type SqliteStores } from './sqlite/stores.js';

export type OpenedStores = SqliteStores | PostgresStores;

export interface OpenStoresOptions {
  /** `strict` audit durability fsyncs every SQLite commit (PostgreSQL commits are durable already). */
  durability?: 'batched' | 'strict';
  /** Connections in the PostgreSQL pool. */
  poolSize?: number;
}

/** Which back end a `storage.url` names; throws on anything else. */
export function storageKind(url: string): 'sqlite' | 'postgres' {
  if (url.startsWith('sqlite://')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  throw new Error(`storage.url must be sqlite://PATH or postgres://…, got "${url.replace(/\/\/[^@/]*@/, '//***@')}"`);
}

/**
 * Opens every durable store named by `storage.url`.
 * @example
 * const stores = await openStores('postgres://gw@db/omega', { poolSize: 20 });
 * await stores.keys.list();
 * await stores.close();
 */
export async function openStores(url: string, options: OpenStoresOptions = {}): Promise<OpenedStores> {
  if (storageKind(url) === 'sqlite') return openSqliteStores(url, options.durability === 'strict' ? 'FULL' : 'NORMAL');
  const { openPostgresStores } = await import('./postgres/stores.js');
  return openPostgresStores(url, { poolSize: options.poolSize });
}
