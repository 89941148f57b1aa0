import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestSchema, skipPostgres } from '../../test/conformance/backends.js';
import { MemoryResponseStore } from './memory/response-store.js';
import { openPostgres, type PostgresTables } from './postgres/database.js';
import { responseStoreConformance, stored } from './response-store.conformance.js';
import { openSqlite, type SqliteTables } from './sqlite/database.js';
import { KyselyResponseStore } from './response-store.js';

describe('MemoryResponseStore', () => {
  responseStoreConformance(async () => {
    let now = 0;
    return { store: new MemoryResponseStore(() => now), setNow: (ms) => (now = ms) };
  });
});

describe('KyselyResponseStore on a real SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'omega-responses-'));
  const open: Kysely<SqliteTables>[] = [];
  let n = 0;
  afterEach(async () => {
    for (const db of open.splice(0)) await db.destroy();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  responseStoreConformance(async () => {
    const db = await openSqlite(`sqlite://${join(dir, `conformance-${n++}.db`)}`);
    open.push(db);
    let now = 0;
    return { store: new KyselyResponseStore(db, false, () => now), setNow: (ms) => (now = ms) };
  });

  it('keeps stored responses across a reopen of the file', async () => {
    const url = `sqlite://${join(dir, 'reopen.db')}`;
    const first = await openSqlite(url);
    const s = stored('resp_keep', 'acme', { expiresAt: Date.now() + 60_000 });
    await new KyselyResponseStore(first, false).put('acme', s);
    await first.destroy();
    const second = await openSqlite(url);
    open.push(second);
    expect(await new KyselyResponseStore(second, false).get('acme', 'resp_keep')).toEqual(s);
  });
});

describe.skipIf(await skipPostgres())('KyselyResponseStore on the real PostgreSQL (a fresh schema per test)', () => {
  const open: { db: Kysely<PostgresTables>; drop(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of open.splice(0)) {
      await o.db.destroy();
      await o.drop();
    }
  });

  responseStoreConformance(async () => {
    const schema = await createTestSchema();
    const db = await openPostgres(schema.url, { poolSize: 2 });
    open.push({ db, drop: schema.drop });
    let now = 0;
    return { store: new KyselyResponseStore(db, true, () => now), setNow: (ms) => (now = ms) };
  });
});
