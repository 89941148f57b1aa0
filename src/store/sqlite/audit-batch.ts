/**
 * The SQLite audit group commit itself, on a raw better-sqlite3 connection: chain each prepared
 * record (store/audit-columns.ts: its JSON text and columns) to its tenant's head and insert it,
 * in one write transaction. Shared by the in-process sink (store/sqlite/audit-sink.ts), which
 * prepares records here, and the audit thread (audit/thread.ts), which receives them prepared by
 * the gateway's thread and runs this on its own connection. Imports nothing heavier than
 * node:crypto, so the thread stays small.
 */
import Database from 'better-sqlite3';
import { chainHash, chainOf, GENESIS_HASH } from '../../audit/chain.js';
import type { TrailRecord } from '../../audit/admin-event.js';
import { AUDIT_COLUMNS, preparedDecisionId, preparedTenantId, prepareRecord, type PreparedRecord } from '../audit-columns.js';

/** The mirrored columns first (a prepared record's `columns`, in order), then the record and its place in the chain. */
const INSERT_COLUMNS = [...AUDIT_COLUMNS, 'record', 'kind', 'chain', 'chain_seq', 'prev_hash', 'record_hash'];
const MIRRORED = AUDIT_COLUMNS.length;

interface Head {
  seq: number;
  hash: string;
}

/** Appends batches to one connection; statements are prepared once. */
export class SqliteAuditBatcher {
  private readonly commit: (records: readonly PreparedRecord[], skipStored: boolean) => number;
  private readonly insertAll: (records: readonly PreparedRecord[], heads: Map<string, Head>, skipStored: boolean) => number;
  private readonly control: { begin: Database.Statement; commit: Database.Statement; rollback: Database.Statement };

  constructor(private readonly sqlite: Database.Database) {
    // Positional parameters bound from one reused array: no per-row object to build or spread.
    const insert = sqlite.prepare(`insert into audit_records (${INSERT_COLUMNS.join(', ')}) values (${INSERT_COLUMNS.map(() => '?').join(', ')})`);
    this.control = { begin: sqlite.prepare('BEGIN IMMEDIATE'), commit: sqlite.prepare('COMMIT'), rollback: sqlite.prepare('ROLLBACK') };
    const headOf = sqlite.prepare<[string], { chain_seq: number; record_hash: string }>('select chain_seq, record_hash from audit_records where chain = ? order by chain_seq desc limit 1');
    const stored = sqlite.prepare<[string, string], { n: number }>('select 1 as n from audit_records where decision_id = ? and kind = ? limit 1');
    const row: unknown[] = new Array(INSERT_COLUMNS.length);
    // `heads`: each chain's newest record within the open transaction (read from the table once).
    this.insertAll = (records, heads, skipStored) => {
      let inserted = 0;
      for (const r of records) {
        // A batch sent again after its thread died may have been committed just before: never twice.
        if (skipStored && stored.get(preparedDecisionId(r), r.kind)) continue;
        const chain = chainOf(preparedTenantId(r));
        let head = heads.get(chain);
        if (!head) {
          const last = headOf.get(chain);
          head = last ? { seq: last.chain_seq, hash: last.record_hash } : { seq: 0, hash: GENESIS_HASH };
        }
        const next = { seq: head.seq + 1, hash: chainHash(head.hash, r.text) };
        heads.set(chain, next);
        for (let i = 0; i < MIRRORED; i++) row[i] = r.columns[i];
        row[MIRRORED] = r.text;
        row[MIRRORED + 1] = r.kind;
        row[MIRRORED + 2] = chain;
        row[MIRRORED + 3] = next.seq;
        row[MIRRORED + 4] = head.hash;
        row[MIRRORED + 5] = next.hash;
        insert.run(row);
        inserted++;
      }
      return inserted;
    };
    const tx = sqlite.transaction((records: readonly PreparedRecord[], skipStored: boolean) => this.insertAll(records, new Map(), skipStored));
    // IMMEDIATE: the write lock is taken before the heads are read, so no other process appends in between.
    this.commit = (records, skipStored) => tx.immediate(records, skipStored);
  }

  /**
   * Commits `records` in order; returns how many were inserted. `skipStored` leaves out records
   * whose decision id and kind are already stored (a resend after a crash).
   */
  append(records: readonly TrailRecord[], skipStored = false): number {
    return records.length === 0 ? 0 : this.commit(records.map(prepareRecord), skipStored);
  }

  /**
   * `append` on the event loop: one write transaction for the whole batch (one commit, so each
   * index page goes to the WAL once), its records serialised, hashed and inserted `sliceSize` at a
   * time with `pause()` (the event loop's other work) between slices. The caller must hold the
   * connection for the duration (store/sqlite/audit-sink.ts does, under Kysely's connection lock).
   * All or nothing: a failure rolls the whole batch back.
   */
  async appendInSlices(records: readonly TrailRecord[], sliceSize: number, pause: () => Promise<void>): Promise<number> {
    if (records.length === 0) return 0;
    if (records.length <= sliceSize) return this.append(records);
    // IMMEDIATE: the write lock is taken before the heads are read, so no other process appends in between.
    this.control.begin.run();
    try {
      const heads = new Map<string, Head>();
      let inserted = 0;
      for (let i = 0; i < records.length; i += sliceSize) {
        if (i > 0) await pause();
        inserted += this.insertAll(records.slice(i, i + sliceSize).map(prepareRecord), heads, false);
      }
      this.control.commit.run();
      return inserted;
    } catch (err) {
      if (this.sqlite.inTransaction) this.control.rollback.run();
      throw err;
    }
  }

  /** `append` for records already prepared (the audit thread's: serialised once, on the gateway's thread). */
  appendPrepared(records: readonly PreparedRecord[], skipStored = false): number {
    return records.length === 0 ? 0 : this.commit(records, skipStored);
  }
}

/** The audit thread's own connection to the SQLite file (WAL, so it writes beside the main thread's). */
export function openAuditConnection(path: string, synchronous: 'FULL' | 'NORMAL'): Database.Database {
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${synchronous}`);
  sqlite.pragma('busy_timeout = 5000');
  return sqlite;
}
