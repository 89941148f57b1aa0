/**
 * The audit thread (audit/thread-writer.ts): records committed by the worker thread survive in
 * order with whole chains, strict mode still waits for the commit, a graceful shutdown flushes,
 * and a thread that dies (once, or again and again) loses no record and stores none twice.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/record.js';
import { ThreadedAuditWriter } from '../../src/audit/thread-writer.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { InProcessAuditWriter, type AuditLog } from '../../src/audit/writer.js';
import { SqliteAuditBatcher } from '../../src/store/sqlite/audit-batch.js';
import { openSqlite } from '../../src/store/sqlite/database.js';
import { KyselyAuditQuery } from '../../src/store/audit-query.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { baseConfig, OTHER_TENANT_KEY, startTestGateway, type TestGateway } from '../support/gateway.js';

let upstream: FakeOpenAI;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
});
afterAll(async () => {
  await upstream?.close();
});

/** A gateway whose batched commits only happen on flush (or shutdown): what is queued stays queued. */
async function gateway(audit = 'audit: { flush_interval: 60s }'): Promise<TestGateway> {
  return startTestGateway(baseConfig(upstream.baseUrl, audit).replace('audit:\n  flush_interval: 20ms\n', ''));
}

/**
 * Sends `n` requests, alternating tenants, `concurrency` at a time; returns their decision ids
 * in completion order (which is the order of their records when one at a time).
 */
async function traffic(gw: TestGateway, n: number, concurrency = 1): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const [key, model] = i % 2 === 0 ? [undefined, 'gpt-test'] : [OTHER_TENANT_KEY, 'gpt-other'];
        const { response } = await gw.client(key).chat.completions.create({ model, messages: [{ role: 'user', content: `thread ${i}` }] }).withResponse();
        ids.push(response.headers.get('x-omega-decision-id')!);
      }
    }),
  );
  return ids;
}

function storedRows(file: string): { decision_id: string; kind: string; chain: string; chain_seq: number }[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('select decision_id, kind, chain, chain_seq from audit_records order by seq').all() as never;
  } finally {
    db.close();
  }
}

async function verdicts(file: string) {
  const db = await openSqlite(`sqlite://${file}`);
  try {
    return await verifyAudit(new KyselyAuditQuery(db));
  } finally {
    await db.destroy();
  }
}

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('audit thread', () => {
  it('audit.thread false: a group commit on the event loop goes in slices of one transaction, and the chains verify', async () => {
    const batched = await gateway('audit: { flush_interval: 60s, thread: false }');
    try {
      expect(batched.audit).toBeInstanceOf(InProcessAuditWriter);
      const ids = await traffic(batched, 40, 8);
      await batched.audit.flush();
      const rows = storedRows(join(batched.dir, 'omega.db')).filter((r) => r.kind === 'request');
      expect(rows.map((r) => r.decision_id).sort()).toEqual([...ids].sort());
      expect((await verdicts(join(batched.dir, 'omega.db'))).every((v) => v.broken === null)).toBe(true);
    } finally {
      await batched.stop();
    }
  }, 60_000);

  it('commits every record once, in completion order per chain, and the chains verify', async () => {
    const gw = await gateway();
    try {
      expect(gw.audit).toBeInstanceOf(ThreadedAuditWriter);
      const concurrent = await traffic(gw, 60, 8);
      const sequential = await traffic(gw, 10);
      expect(gw.audit.pending).toBe(70); // queued: nothing committed before the flush
      await gw.audit.flush();
      expect(gw.audit.pending).toBe(0);
      const rows = storedRows(join(gw.dir, 'omega.db')).filter((r) => r.kind === 'request');
      expect(rows.map((r) => r.decision_id).sort()).toEqual([...concurrent, ...sequential].sort());
      // Records are stored in the order their requests finished (the order the gateway appended them).
      expect(rows.slice(60).map((r) => r.decision_id)).toEqual(sequential);
      for (const chain of ['acme', 'globex']) {
        const seqs = rows.filter((r) => r.chain === chain).map((r) => r.chain_seq);
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      }
      expect((await verdicts(join(gw.dir, 'omega.db'))).every((v) => v.broken === null)).toBe(true);
    } finally {
      await gw.stop();
    }
  }, 60_000);

  it('a graceful shutdown commits what the thread still held', async () => {
    const gw = await gateway();
    const dir = mkdtempSync(join(tmpdir(), 'omega-thread-'));
    const file = join(dir, 'copy.db');
    try {
      const ids = await traffic(gw, 20);
      expect(gw.audit.pending).toBe(20);
      await gw.close(); // no flush before: close must do it
      const db = new Database(join(gw.dir, 'omega.db'), { readonly: true });
      db.exec(`vacuum into '${file}'`);
      db.close();
      expect(storedRows(file).map((r) => r.decision_id)).toEqual(ids);
      expect((await verdicts(file)).every((v) => v.broken === null)).toBe(true);
    } finally {
      rmSync(gw.dir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('strict durability: the decision and cost records are committed by the time the answer is in', async () => {
    const gw = await gateway('audit: { durability: strict, flush_interval: 60s }');
    try {
      const { response } = await gw.client().chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'strict via the thread' }] }).withResponse();
      const id = response.headers.get('x-omega-decision-id')!;
      // No flush: read the file as another process would.
      const kinds = storedRows(join(gw.dir, 'omega.db')).filter((r) => r.decision_id === id).map((r) => r.kind);
      expect(kinds).toEqual(['decision', 'cost']);
      await gw.audit.flush();
      expect(storedRows(join(gw.dir, 'omega.db')).filter((r) => r.decision_id === id).map((r) => r.kind)).toEqual(['decision', 'cost', 'request']);
    } finally {
      await gw.stop();
    }
  }, 60_000);

  it('a thread killed with records queued is replaced, and the new one commits them', async () => {
    const gw = await gateway();
    try {
      const audit = gw.audit as ThreadedAuditWriter;
      const first = await traffic(gw, 20);
      const dead = audit.thread;
      await dead.terminate(); // as if it crashed: its 20 queued records were never committed
      await until(() => audit.thread !== dead);
      const second = await traffic(gw, 10);
      await audit.flush();
      const rows = storedRows(join(gw.dir, 'omega.db'));
      expect(rows.map((r) => r.decision_id)).toEqual([...first, ...second]);
      expect((await verdicts(join(gw.dir, 'omega.db'))).every((v) => v.broken === null)).toBe(true);
    } finally {
      await gw.stop();
    }
  }, 60_000);

  it('a thread that keeps dying hands over to the main thread without losing a record', async () => {
    const gw = await gateway();
    try {
      const audit = gw.audit as ThreadedAuditWriter;
      const ids: string[] = [];
      // Four deaths within a minute: the fourth makes the gateway commit on the main thread.
      for (let i = 0; i < 4; i++) {
        ids.push(...(await traffic(gw, 5)));
        const dead = audit.thread;
        await dead.terminate();
        if (i < 3) await until(() => audit.thread !== dead);
      }
      await until(() => audit.pending === 20 && audit.thread.threadId === -1);
      ids.push(...(await traffic(gw, 5)));
      await audit.flush();
      expect(audit.pending).toBe(0);
      expect(storedRows(join(gw.dir, 'omega.db')).map((r) => r.decision_id)).toEqual(ids);
      expect((await verdicts(join(gw.dir, 'omega.db'))).every((v) => v.broken === null)).toBe(true);
    } finally {
      await gw.stop();
    }
  }, 90_000);
});

describe('prepared hand-over', () => {
  const quiet: AuditLog = { error: () => undefined, warn: () => undefined, debug: () => undefined };
  /** Records with what JSON serialisation is picky about, over two chains. */
  const record = (i: number) =>
    ({
      kind: 'request',
      decision_id: `dec_prep_${i}`,
      tenant_id: i % 2 === 0 ? 'acme' : null,
      received_at_ms: 1_000 + i,
      endpoint: '/v1/chat/completions',
      model_requested: 'gpt-"ünï"',
      stream: i % 3 === 0,
      policy_outcome: 'ALLOW',
      risk_score: 0.1 + 0.2,
      http_status: 200,
      cost_usd: 1e-7 * i,
      budget_reserved_usd: 0,
      total_latency_ms: 12.345,
      completion: `line\nbreak 日本語 🎉 \u2028 ${i}`,
      attempt_log: [{ model: 'gpt', deployment: 'd', status: 200, error: null, latency_ms: 1.5 }],
    }) as unknown as AuditRecord;

  async function migrated(): Promise<{ dir: string; file: string; spool: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'omega-prepared-'));
    const file = join(dir, 'omega.db');
    await (await openSqlite(`sqlite://${file}`)).destroy();
    return { dir, file, spool: join(dir, 'audit-spool.jsonl') };
  }

  function threaded(file: string, spool: string): ThreadedAuditWriter {
    return new ThreadedAuditWriter(
      { path: file, synchronous: 'NORMAL', flushIntervalMs: 60_000, batchSize: 1_000, spoolFile: spool, fallback: () => { throw new Error('the thread is not expected to die here'); } },
      quiet,
    );
  }

  function storedTexts(file: string): Map<string, string> {
    const db = new Database(file, { readonly: true });
    try {
      return new Map((db.prepare('select decision_id, record from audit_records order by seq').all() as { decision_id: string; record: string }[]).map((r) => [r.decision_id, r.record]));
    } finally {
      db.close();
    }
  }

  function refuseInserts(file: string, refuse: boolean): void {
    const db = new Database(file);
    db.exec(refuse ? `create trigger refuse_audit before insert on audit_records begin select raise(abort, 'refused for the test'); end` : 'drop trigger refuse_audit');
    db.close();
  }

  it('the thread stores exactly JSON.stringify of each record, appended or strict, and the chains verify', async () => {
    const { dir, file, spool } = await migrated();
    try {
      const writer = threaded(file, spool);
      await writer.ready;
      const records = Array.from({ length: 30 }, (_, i) => record(i));
      for (const r of records.slice(0, 20)) writer.append(r);
      expect(await writer.writeNow(records[20]!)).toBe('committed');
      for (const r of records.slice(21)) writer.append(r);
      await writer.close();
      const texts = storedTexts(file);
      expect([...texts.keys()]).toHaveLength(30);
      for (const r of records) expect(texts.get(r.decision_id)).toBe(JSON.stringify(r));
      const verdicts_ = await verdicts(file);
      expect(verdicts_.map((v) => [v.chain, v.records, v.broken])).toEqual(expect.arrayContaining([['acme', 15, null], ['_', 15, null]]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('spools what the store refuses as JSON lines of the records, and replays both its own spool and one an older writer left', async () => {
    const { dir, file, spool } = await migrated();
    try {
      const records = Array.from({ length: 12 }, (_, i) => record(i));
      // Left by an older version (or the in-process writer): one JSON.stringify line per record.
      writeFileSync(spool, records.slice(0, 3).map((r) => JSON.stringify(r)).join('\n') + '\n');
      refuseInserts(file, true);
      const writer = threaded(file, spool);
      await writer.ready;
      for (const r of records.slice(3, 6)) writer.append(r);
      await writer.flush();
      expect(await writer.writeNow(records[6]!)).toBe('spooled');
      expect(writer.spooled).toBe(7);
      // The same lines whichever writer spooled them (a failed replay moves the file aside).
      const lines = [`${spool}.replay`, spool].filter((f) => existsSync(f)).flatMap((f) => readFileSync(f, 'utf8').trim().split('\n'));
      expect(lines).toEqual(records.slice(0, 7).map((r) => JSON.stringify(r)));
      refuseInserts(file, false);
      for (const r of records.slice(7, 9)) writer.append(r);
      await writer.flush();
      expect(writer.spooled).toBe(0);
      // Spooled again through the thread; then the in-process writer (the fallback) replays the thread's spool.
      refuseInserts(file, true);
      for (const r of records.slice(9)) writer.append(r);
      await writer.close();
      expect(readFileSync(spool, 'utf8')).toBe(records.slice(9).map((r) => JSON.stringify(r)).join('\n') + '\n');
      refuseInserts(file, false);
      const db = await openSqlite(`sqlite://${file}`);
      const { SqliteAuditSink } = await import('../../src/store/sqlite/audit-sink.js');
      const inProcess = new InProcessAuditWriter(await SqliteAuditSink.open(db), { flushIntervalMs: 60_000, batchSize: 1_000, spoolFile: spool }, quiet);
      expect(inProcess.spooled).toBe(3);
      await inProcess.flush();
      await inProcess.close();
      await db.destroy();
      expect(existsSync(spool)).toBe(false);
      const texts = storedTexts(file);
      expect([...texts.keys()]).toEqual(records.map((r) => r.decision_id));
      for (const r of records) expect(texts.get(r.decision_id)).toBe(JSON.stringify(r));
      expect((await verdicts(file)).every((v) => v.broken === null)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('closing', () => {
  it('close resolves in a process with nothing else keeping it alive (the thread stays referenced until it exits)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omega-close-'));
    try {
      const file = join(dir, 'omega.db');
      await (await openSqlite(`sqlite://${file}`)).destroy();
      const src = (path: string) => JSON.stringify(new URL(`../../src/${path}`, import.meta.url).href);
      const script = `
        const { ThreadedAuditWriter } = await import(${src('audit/thread-writer.ts')});
        const w = new ThreadedAuditWriter({ path: ${JSON.stringify(file)}, synchronous: 'NORMAL', flushIntervalMs: 60000, batchSize: 1000, spoolFile: ${JSON.stringify(join(dir, 'spool.jsonl'))}, fallback: () => { throw new Error('no'); } }, { error() {}, warn() {}, debug() {} });
        await w.ready;
        w.append({ kind: 'request', decision_id: 'dec_close', tenant_id: 'acme', received_at_ms: 1, endpoint: '/v1/chat/completions', stream: false, policy_outcome: 'ALLOW', risk_score: 0, http_status: 200, cost_usd: 0, budget_reserved_usd: 0 });
        await w.close();
        console.log('closed');`;
      // Exit code 13 was Node's "unsettled top-level await": the loop emptied while close awaited the exit.
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
      expect({ status: run.status, out: run.stdout.trim() }).toEqual({ status: 0, out: 'closed' });
      expect(storedRows(file).map((r) => r.decision_id)).toEqual(['dec_close']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('resent batches', () => {
  it('a batch sent again after its thread died is not stored twice, and the chain continues', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omega-resend-'));
    const file = join(dir, 'omega.db');
    try {
      await (await openSqlite(`sqlite://${file}`)).destroy(); // migrated
      const db = new Database(file);
      const batcher = new SqliteAuditBatcher(db);
      const record = (i: number) => ({ kind: 'request', decision_id: `dec_resend_${i}`, tenant_id: 'acme', received_at_ms: 1_000 + i, endpoint: '/v1/chat/completions', stream: false, policy_outcome: 'ALLOW', risk_score: 0, http_status: 200, cost_usd: 0, budget_reserved_usd: 0 }) as unknown as AuditRecord;
      expect(batcher.append([record(1), record(2)])).toBe(2);
      // The thread committed 1 and 2, died before saying so; the new thread gets 1, 2 and 3.
      expect(batcher.append([record(1), record(2), record(3)], true)).toBe(1);
      db.close();
      expect(storedRows(file).map((r) => [r.decision_id, r.chain_seq])).toEqual([['dec_resend_1', 1], ['dec_resend_2', 2], ['dec_resend_3', 3]]);
      expect((await verdicts(file))[0]!.broken).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('retention in slices', () => {
  it('deletes thousands of records in short transactions with the event loop free between them, and the chain still verifies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omega-prune-'));
    const file = join(dir, 'omega.db');
    try {
      const db = await openSqlite(`sqlite://${file}`);
      const raw = new Database(file);
      const batcher = new SqliteAuditBatcher(raw);
      const record = (i: number, at: number) => ({ kind: 'request', decision_id: `dec_old_${i}`, tenant_id: 'acme', received_at_ms: at, endpoint: '/v1/chat/completions', stream: false, policy_outcome: 'ALLOW', risk_score: 0, http_status: 200, cost_usd: 0, budget_reserved_usd: 0 }) as unknown as AuditRecord;
      const old = Array.from({ length: 4_500 }, (_, i) => record(i, 1_000 + i));
      const recent = Array.from({ length: 10 }, (_, i) => record(10_000 + i, Date.now()));
      batcher.append(old);
      batcher.append(recent);
      raw.close();
      const { SqliteAuditSink } = await import('../../src/store/sqlite/audit-sink.js');
      const sink = await SqliteAuditSink.open(db);
      // Turns of the event loop while the prune runs: one per slice boundary at least.
      let turns = 0;
      let ticking = true;
      const tick = () => {
        turns++;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      const event = await sink.prune('acme', Date.now() - 86_400_000, 'test');
      ticking = false;
      expect(event).toMatchObject({ deleted_count: 4_500, first_kept_seq: 4_501 });
      expect(turns).toBeGreaterThanOrEqual(2);
      await db.destroy();
      const rows = storedRows(file);
      // The ten recent records and one retention event per slice (three slices of at most 2,000).
      expect(rows.filter((r) => r.kind === 'request').map((r) => r.decision_id)).toEqual(recent.map((r) => r.decision_id));
      expect(rows.filter((r) => r.kind === 'retention')).toHaveLength(3);
      expect((await verdicts(file))[0]).toMatchObject({ broken: null, records: 13 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
