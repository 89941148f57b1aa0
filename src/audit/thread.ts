/**
 * The audit thread (node:worker_threads): a group-commit writer on its own SQLite connection.
 * The event loop serialises each record once and hands over its JSON text and columns
 * (audit/thread-writer.ts; `PreparedRecord`, store/audit-columns.ts: strings and primitives,
 * cheap to copy); hashing the chain, committing, spooling to disk when the store refuses and
 * replaying the spool all happen here, and nothing here serialises a record again. Messages are
 * handled in arrival order, so records are committed in the order the gateway finished them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PreparedRecord } from '../store/audit-columns.js';
import { openAuditConnection, SqliteAuditBatcher } from '../store/sqlite/audit-batch.js';
import { GroupCommitWriter, preparedLines, type AuditLog, type WriteOutcome } from './writer.js';

/** What the gateway tells the thread when it starts it. */
export interface AuditThreadOptions {
  /** The SQLite file (the gateway's own `storage.url`). */
  path: string;
  synchronous: 'NORMAL' | 'FULL';
  flushIntervalMs: number;
  batchSize: number;
  spoolFile: string;
}

/** Gateway → thread. `resent`: records a thread that died may have committed already (never stored twice). */
export type ToAuditThread =
  | { t: 'records'; records: PreparedRecord[]; resent?: boolean }
  | { t: 'write'; id: number; record: PreparedRecord; resent?: boolean }
  | { t: 'flush'; id: number }
  | { t: 'close'; id: number };

/** Thread → gateway. `settled`: that many queued records were committed or spooled, oldest first. */
export type FromAuditThread =
  | { t: 'ready' }
  | { t: 'settled'; records: number; spooled: number }
  | { t: 'done'; id: number; spooled: number; error?: string; outcome?: WriteOutcome }
  | { t: 'log'; level: 'error' | 'warn' | 'debug'; fields: object; message: string };

const port = parentPort;
if (!port) throw new Error('audit/thread.ts runs as a worker thread (see audit/thread-writer.ts)');
const options = workerData as AuditThreadOptions;
const send = (message: FromAuditThread) => port.postMessage(message);

const sqlite = openAuditConnection(options.path, options.synchronous);
const batcher = new SqliteAuditBatcher(sqlite);
const resent = new WeakSet<PreparedRecord>();
const log: AuditLog = {
  // Errors are plain objects here: only their message crosses to the gateway's logger.
  error: (fields, message) => send({ t: 'log', level: 'error', fields: loggable(fields), message }),
  warn: (fields, message) => send({ t: 'log', level: 'warn', fields: loggable(fields), message }),
  debug: (fields, message) => send({ t: 'log', level: 'debug', fields: loggable(fields), message }),
};
const writer = new GroupCommitWriter<PreparedRecord>(
  // A batch holding a resent record checks each record against the store before inserting it.
  { append: async (records) => void batcher.appendPrepared(records, records.some((r) => resent.has(r))) },
  { flushIntervalMs: options.flushIntervalMs, batchSize: options.batchSize, spoolFile: options.spoolFile, onSettled: (records) => send({ t: 'settled', records, spooled: writer.spooled }) },
  log,
  preparedLines,
);

port.on('message', (message: ToAuditThread) => {
  switch (message.t) {
    case 'records':
      for (const record of message.records) {
        if (message.resent) resent.add(record);
        writer.append(record);
      }
      return;
    case 'write':
      if (message.resent) resent.add(message.record);
      return reply(message.id, writer.writeNow(message.record));
    case 'flush':
      return reply(message.id, writer.flush());
    case 'close':
      return reply(
        message.id,
        writer.close().finally(() => sqlite.close()),
        () => port.close(),
      );
  }
});

send({ t: 'ready' });

function reply(id: number, work: Promise<WriteOutcome | void>, then?: () => void): void {
  work.then(
    (outcome) => send({ t: 'done', id, spooled: writer.spooled, ...(outcome ? { outcome } : {}) }),
    (err: unknown) => send({ t: 'done', id, spooled: writer.spooled, error: err instanceof Error ? err.message : String(err) }),
  ).finally(then);
}

function loggable(fields: object): object {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? { message: v.message, code: (v as { code?: unknown }).code } : v;
  return out;
}
