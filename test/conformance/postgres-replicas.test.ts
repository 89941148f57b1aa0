import { postgresMigrations } from '../../src/store/postgres/migrations.js';
/**
 * PostgreSQL shared by several replicas: migrations when they start at once, and audit chains
 * appended by several writers (each with its own pool) for the same tenant.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { verifyAudit } from '../../src/audit/verify.js';
import { openPostgresStores, type PostgresStores } from '../../src/store/postgres/stores.js';
import { record } from './audit-sink.conformance.js';
import { createTestDatabase, skipPostgres } from './backends.js';

describe.skipIf(await skipPostgres())('PostgreSQL with several replicas', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()!();
  });

  it('migrates a fresh database once when three replicas start at the same moment', async () => {
    const db = await createTestDatabase();
    cleanup.push(db.drop);
    const replicas = await Promise.all([1, 2, 3].map(() => openPostgresStores(db.url, { poolSize: 2 })));
    cleanup.push(() => Promise.all(replicas.map((r) => r.close())).then(() => undefined));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const applied = await client.query<{ name: string }>('select name from kysely_migration order by name');
      expect(applied.rows.map((r) => r.name)).toEqual(Object.keys(postgresMigrations).sort());
      const tables = await client.query<{ table_name: string }>("select table_name from information_schema.tables where table_schema = 'public' and table_name not like 'kysely%' order by 1");
      expect(tables.rows.map((r) => r.table_name)).toEqual(['admin_sessions', 'api_keys', 'audit_chain_heads', 'audit_records', 'config_entities', 'config_revision', 'policy_versions', 'provider_credentials', 'responses', 'review_items']);
    } finally {
      await client.end();
    }
    // Every replica works on the shared schema, and sees the others' writes.
    await replicas[0]!.policies.put({ name: 'default', version: 'v1', config: {}, actor: 'a', createdAt: 1 });
    expect((await replicas[2]!.policies.latest()).map((p) => p.version)).toEqual(['v1']);
    // A later start finds nothing left to do.
    const late = await openPostgresStores(db.url, { poolSize: 1 });
    await late.close();
  });

  it('keeps one tenant\'s chain gap-free and verifiable when two writers append at once', async () => {
    const db = await createTestDatabase();
    cleanup.push(db.drop);
    const a: PostgresStores = await openPostgresStores(db.url, { poolSize: 4 });
    const b: PostgresStores = await openPostgresStores(db.url, { poolSize: 4 });
    cleanup.push(() => a.close(), () => b.close());
    const batches = 40;
    const write = (stores: PostgresStores, who: string) =>
      Promise.all(Array.from({ length: batches }, (_, i) => stores.audit.append([record('acme', { instance: `${who}-${i}` } as never), record('acme'), record(i % 3 ? 'globex' : null)])));
    await Promise.all([write(a, 'a'), write(b, 'b')]);

    const rows = await a.auditQuery.chainRows('acme');
    expect(rows).toHaveLength(2 * batches * 2);
    expect(rows.map((r) => r.chain_seq)).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
    const verdicts = await verifyAudit(b.auditQuery);
    expect(verdicts.map((v) => [v.chain, v.broken])).toEqual([
      ['_', null],
      ['acme', null],
      ['globex', null],
    ]);
    expect(verdicts.reduce((n, v) => n + v.records, 0)).toBe(2 * batches * 3);
    // Both writers' records are interleaved in the one chain, not two chains glued together.
    const writers = new Set(rows.map((r) => (JSON.parse(r.record) as { instance?: string }).instance?.split('-')[0]).filter(Boolean));
    expect(writers).toEqual(new Set(['a', 'b']));
  });

  it('serializes retention with appends from another writer', async () => {
    const db = await createTestDatabase();
    cleanup.push(db.drop);
    const a = await openPostgresStores(db.url, { poolSize: 2 });
    const b = await openPostgresStores(db.url, { poolSize: 2 });
    cleanup.push(() => a.close(), () => b.close());
    await a.audit.append(Array.from({ length: 10 }, () => record('acme', { received_at_ms: 1000 })));
    await Promise.all([b.audit.prune('acme', 2000, 'test'), ...Array.from({ length: 10 }, () => a.audit.append([record('acme')]))]);
    const [verdict] = await verifyAudit(a.auditQuery, 'acme');
    expect(verdict!.broken).toBeNull();
    expect(verdict!.records).toBe(11); // ten new records and the retention event
  });
});
