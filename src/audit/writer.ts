/**
 * Takes audit records off the hot path. Two writers: `InProcessAuditWriter` (below) commits on
 * this thread, and `ThreadedAuditWriter` (audit/thread-writer.ts) runs the same group commit
 * (`GroupCommitWriter`, on records the gateway's thread prepared) on a worker thread with its own
 * SQLite connection, so hashing and committing never hold the event loop. In `batched`
 * durability, `append` only queues; a group commit writes the queue every `flush_interval` ms,
 * or at once when `batch_size` records wait, so a crash loses at most the records of the last
 * interval and a graceful shutdown (`close`) loses nothing. `writeNow` is strict durability's
 * path: the record is committed (or spooled) before it returns. When the store refuses a commit,
 * the batch goes to an append-only spool file (fsynced) and is replayed into the store once it
 * takes writes again — records are never silently dropped.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { prepareRecord, type PreparedRecord } from '../store/audit-columns.js';
import type { AuditSink } from '../store/types.js';
import type { TrailRecord } from './admin-event.js';

/** Where a strict write ended up: in the store, or in the spool file until the store takes writes again. */
export type WriteOutcome = 'committed' | 'spooled';

/** What the pipeline, the admin API and shutdown use, whichever thread commits. */
export interface AuditWriter {
  /** Queues a record for the next group commit (batched durability). */
  append(record: TrailRecord): void;
  /** Commits one record now, or spools it durably if the store refuses (strict durability); says which happened. */
  writeNow(record: TrailRecord): Promise<WriteOutcome>;
  /** Commits everything appended so far (and replays the spool first). */
  flush(): Promise<void>;
  /** Commits (or spools) everything appended, then stops. */
  close(): Promise<void>;
  /** Records appended and not yet committed or spooled. */
  readonly pending: number;
  /** Records in the spool file, waiting for the store. */
  readonly spooled: number;
}

export interface AuditWriterOptions {
  flushIntervalMs: number;
  batchSize: number;
  spoolFile: string;
  /** Told how many queued records each group commit settled (committed or spooled), in order. */
  onSettled?: (records: number) => void;
}

/** The log calls the writer makes (a pino logger, or the audit thread's relay to one). */
export interface AuditLog {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

/**
 * How queued items go to the spool file and come back: one line of the record's JSON each, the
 * same for every writer (the audit thread and the in-process writer it falls back on share the
 * file, and a spool left by an older version replays).
 */
export interface SpoolCodec<T> {
  /** The record's JSON (JSON.stringify never writes a raw newline). */
  line(item: T): string;
  parse(line: string): T;
}

const recordLines: SpoolCodec<TrailRecord> = { line: (r) => JSON.stringify(r), parse: (line) => JSON.parse(line) as TrailRecord };

/**
 * The audit thread's: a prepared record's text is its spool line as it is; a line read back is
 * prepared again from the record it holds, as the in-process replay stores it.
 */
export const preparedLines: SpoolCodec<PreparedRecord> = { line: (p) => p.text, parse: (line) => prepareRecord(recordLines.parse(line)) };

/**
 * The batched writer itself, over any form of record (`T`): the records themselves in process,
 * prepared records (store/audit-columns.ts) on the audit thread.
 */
export class GroupCommitWriter<T> {
  private queue: T[] = [];
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  /** Records in the spool file, waiting for the store. */
  spooled = 0;
  /** Whether records were spooled since the last replay (one error line per outage). */
  private spooling = false;

  constructor(
    private readonly sink: { append(records: readonly T[]): Promise<void> },
    private readonly options: AuditWriterOptions,
    private readonly log: AuditLog,
    private readonly codec: SpoolCodec<T>,
  ) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
    // Records a previous process spooled (or was replaying) are replayed by the first flush.
    for (const file of [options.spoolFile, `${options.spoolFile}.replay`]) if (existsSync(file)) this.spooled += spoolLines(file).length;
  }

  append(record: T): void {
    this.queue.push(record);
    if (this.queue.length >= this.options.batchSize && !this.flushing) setImmediate(() => void this.flush());
  }

  /** Commits one record now (strict durability); spools it durably if the store refuses. Says which happened. */
  async writeNow(record: T): Promise<WriteOutcome> {
    try {
      await this.sink.append([record]);
      return 'committed';
    } catch (err) {
      this.spool([record], err);
      return 'spooled';
    }
  }

  /** Records queued and not yet committed (spooled ones excluded). */
  get pending(): number {
    return this.queue.length;
  }

  /** Commits everything queued so far (and replays the spool first). Concurrent calls share one commit. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.queue.length === 0 && this.spooled === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.flushing = (async () => {
      if (this.spooled > 0) await this.replaySpool();
      if (batch.length === 0) return;
      try {
        await this.sink.append(batch);
      } catch (err) {
        this.spool(batch, err);
      }
      this.options.onSettled?.(batch.length);
    })().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops the timer and commits (or spools) everything queued. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    while (this.flushing || this.queue.length > 0) {
      await this.flushing;
      await this.flush();
    }
  }

  private spool(records: T[], err: unknown): void {
    mkdirSync(dirname(this.options.spoolFile), { recursive: true });
    const fd = openSync(this.options.spoolFile, 'a');
    try {
      writeSync(fd, records.map((r) => this.codec.line(r)).join('\n') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.spooled += records.length;
    // Once per outage at error level; every flush spools while the store is down.
    const first = !this.spooling;
    this.spooling = true;
    this.log[first ? 'error' : 'debug']({ err, records: records.length, spool: this.options.spoolFile }, 'audit store refused a commit; records spooled to disk and replayed when it recovers');
  }

  private async replaySpool(): Promise<void> {
    // Each file is moved aside before replaying, so records spooled meanwhile are neither lost nor doubled.
    const replaying = `${this.options.spoolFile}.replay`;
    for (;;) {
      let records: T[];
      try {
        if (!existsSync(replaying)) {
          if (!existsSync(this.options.spoolFile)) break;
          renameSync(this.options.spoolFile, replaying);
        }
        records = spoolLines(replaying).map((line) => this.codec.parse(line));
      } catch (err) {
        // Another writer sharing this spool file (audit.spool_file should differ per process) took it first.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
        throw err;
      }
      try {
        if (records.length > 0) await this.sink.append(records);
      } catch {
        break; // still refused: retried on the next flush
      }
      try {
        unlinkSync(replaying);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.log.warn({ spool: this.options.spoolFile }, 'another process replayed the same audit spool file at the same time; some records may be stored twice: give each process its own audit.spool_file');
      }
      this.log.warn({ records: records.length }, 'spooled audit records replayed into the store');
    }
    this.spooled = [this.options.spoolFile, replaying].reduce((n, f) => n + (existsSync(f) ? spoolLines(f).length : 0), 0);
    if (this.spooled === 0) this.spooling = false;
  }
}

/** Commits on this thread, through the store's sink (SQLite, PostgreSQL, memory). */
export class InProcessAuditWriter extends GroupCommitWriter<TrailRecord> implements AuditWriter {
  constructor(sink: AuditSink, options: AuditWriterOptions, log: AuditLog) {
    super(sink, options, log, recordLines);
  }
}

/** A spool file's records, one JSON line each (counted without parsing them). */
function spoolLines(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

