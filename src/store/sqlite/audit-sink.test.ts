import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TrailRecord } from '../../audit/admin-event.js';
import { auditRecord } from '../../../test/support/audit-fixtures.js';
import { scratchDb } from '../../../test/support/stage-fixtures.js';
import { SqliteAuditSink } from './audit-sink.js';
import { rawSqlite } from './database.js';

const records = (n: number): TrailRecord[] => Array.from({ length: n }, (_, i) => auditRecord({ decision_id: `dec_${i}` }));

describe('SQLite audit sink: a group commit on the event loop', () => {
  let scratch: Awaited<ReturnType<typeof scratchDb>>;
  beforeEach(async () => {
    scratch = await scratchDb();
  });
  afterEach(() => scratch.close());

  const stored = () => rawSqlite(scratch.db).prepare<[], { decision_id: string; chain_seq: number }>("select decision_id, chain_seq from audit_records where kind = 'request' order by chain_seq").all();

  it('inserts in slices with the event loop free between them, committed once, in order', async () => {
    const sink = await SqliteAuditSink.open(scratch.db);
    const appended = sink.append(records(40));
    // Other work runs while the batch is being inserted (16 records a turn)...
    await new Promise((resolve) => setImmediate(resolve));
    // ...while the batch's one transaction is still open.
    expect(rawSqlite(scratch.db).inTransaction).toBe(true);
    await appended;
    expect(rawSqlite(scratch.db).inTransaction).toBe(false);
    expect(stored().map((r) => r.decision_id)).toEqual(records(40).map((r) => r.decision_id));
    expect(stored().map((r) => r.chain_seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('stores nothing of a batch the store refuses part-way (all or nothing)', async () => {
    const sink = await SqliteAuditSink.open(scratch.db);
    rawSqlite(scratch.db).exec("create trigger refuse before insert on audit_records when new.decision_id = 'dec_30' begin select raise(abort, 'refused'); end");
    await expect(sink.append(records(40))).rejects.toThrow('refused');
    expect(rawSqlite(scratch.db).inTransaction).toBe(false);
    expect(stored()).toHaveLength(0);
    rawSqlite(scratch.db).exec('drop trigger refuse');
    await sink.append(records(40));
    expect(stored()).toHaveLength(40);
  });
});
