/**
 * The SQLite audit group commit itself, on a raw better-sqlite3 connection: serialise each
 * record, chain it to its tenant's head and insert it, in one write transaction. Shared by the
 * in-process sink (store/sqlite/audit-sink.ts) and the audit thread (audit/thread.ts), which
 * runs it on its own connection so none of this work lands on the event loop. Imports nothing
 * heavier than node:crypto, so the thread stays small.
 */
import Database from 'better-sqlite3';
import { chainHash, chainOf, GENESIS_HASH } from '../../audit/chain.js';
import type { TrailRecord } from '../../audit/admin-event.js';
import { auditColumns as columns } from '../audit-columns.js';

const INSERT_COLUMNS = [
  'decision_id', 'received_at', 'tenant_id', 'team_id', 'agent_id', 'key_id', 'endpoint', 'model_requested', 'model_resolved', 'provider',
  'stream', 'policy_outcome', 'risk_score', 'http_status', 'error_code', 'input_tokens', 'output_tokens', 'cost_usd', 'budget_reserved_usd', 'total_latency_ms',
  'record', 'kind', 'chain', 'chain_seq', 'prev_hash', 'record_hash',
] as const;

interface Head {
  seq: number;
  hash: string;
}

/** Appends batches to one connection; statements are prepared once. */
export class SqliteAuditBatcher {
  private readonly commit: (records: readonly TrailRecord[], skipStored: boolean) => number;

  constructor(sqlite: Database.Database) {
    const insert = sqlite.prepare(`insert into audit_records (${INSERT_COLUMNS.join(', ')}) values (${INSERT_COLUMNS.map((c) => `@${c}`).join(', ')})`);
    const headOf = sqlite.prepare<[string], { chain_seq: number; record_hash: string }>('select chain_seq, record_hash from audit_records where chain = ? order by chain_seq desc limit 1');
    const stored = sqlite.prepare<[string, string], { n: number }>('select 1 as n from audit_records where decision_id = ? and kind = ? limit 1');
    const tx = sqlite.transaction((records: readonly TrailRecord[], skipStored: boolean) => {
      const heads = new Map<string, Head>();
      let inserted = 0;
      for (const r of records) {
        // A batch sent again after its thread died may have been committed just before: never twice.
        if (skipStored && stored.get(r.decision_id, r.kind)) continue;
        const chain = chainOf(r.tenant_id);
        let head = heads.get(chain);
        if (!head) {
          const last = headOf.get(chain);
          head = last ? { seq: last.chain_seq, hash: last.record_hash } : { seq: 0, hash: GENESIS_HASH };
        }
        const record = JSON.stringify(r);
        const next = { seq: head.seq + 1, hash: chainHash(head.hash, record) };
        heads.set(chain, next);
        insert.run({ ...columns(r), record, kind: r.kind, chain, chain_seq: next.seq, prev_hash: head.hash, record_hash: next.hash });
        inserted++;
      }
      return inserted;
    });
    // IMMEDIATE: the write lock is taken before the heads are read, so no other process appends in between.
    this.commit = (records, skipStored) => tx.immediate(records, skipStored);
  }

  /**
   * Commits `records` in order; returns how many were inserted. `skipStored` leaves out records
   * whose decision id and kind are already stored (a resend after a crash).
   */
  append(records: readonly TrailRecord[], skipStored = false): number {
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
