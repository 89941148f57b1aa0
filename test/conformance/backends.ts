/**
 * The back ends the conformance suites run against: SQLite on a real temp file, and the real
 * PostgreSQL of this machine (each opener creates a fresh schema, or a database where a test needs
 * one, and drops it afterwards, so parallel tests never collide). Under CI=true PostgreSQL tests always run and fail when
 * the server is unreachable; elsewhere they are skipped with a message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openPostgresStores } from '../../src/store/postgres/stores.js';
import { openSqliteStores } from '../../src/store/sqlite/stores.js';
import type { Stores } from '../../src/store/types.js';

/** Where the test server lives; databases named omega_test_* are created next to `test`. */
export const POSTGRES_URL = process.env.OMEGA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const IN_CI = process.env.CI === 'true';

export interface Backend {
  stores: Stores;
  close(): Promise<void>;
}

export type OpenBackend = () => Promise<Backend>;

export async function openSqliteBackend(): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), 'omega-conformance-'));
  const stores = await openSqliteStores(`sqlite://${join(dir, 'omega.db')}`);
  return {
    stores,
    close: async () => {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh, empty database on the test server; returns its URL and a function that drops it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `omega_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await admin(`create database ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

/**
 * A fresh, empty schema in the test database, and a URL whose connections use it (search_path):
 * much cheaper than a database per test, and just as isolated.
 */
export async function createTestSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `omega_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await admin(`create schema ${name}`);
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${name}`);
  return { url: url.toString(), drop: () => admin(`drop schema if exists ${name} cascade`) };
}

export async function openPostgresBackend(): Promise<Backend> {
  const schema = await createTestSchema();
  const stores = await openPostgresStores(schema.url, { poolSize: 4 });
  return {
    stores,
    close: async () => {
      await stores.close();
      await schema.drop();
    },
  };
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Whether the test server answers (checked once per file). */
export async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Whether to skip the PostgreSQL variants: never under CI (they must run, and fail if the server
 * is down); elsewhere only when the server is unreachable, saying so.
 */
export async function skipPostgres(): Promise<boolean> {
  if (IN_CI) return false;
  if (await postgresReachable()) return false;
  console.warn(`PostgreSQL at ${POSTGRES_URL} is unreachable: skipping the PostgreSQL tests of this file (under CI=true they run and fail instead).`);
  return true;
}
