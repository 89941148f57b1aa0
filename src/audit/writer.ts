/**
 * Takes audit records off the hot path. In `batched` durability, `append` only queues; a group
 * commit writes the queue every `flush_interval` ms, or at once when `batch_size` records wait,
 * so a crash loses at most the records of the last interval and a graceful shutdown (`close`)
 * loses nothing. `writeNow` is strict durability's path: the record is committed (or spooled)
 * before it returns. When the store refuses a commit, the batch goes to an append-only spool
 * file (fsynced) and is replayed into the store once it takes writes again — records are never
 * silently dropped.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { AuditSink } from '../store/types.js';
import type { TrailRecord } from './admin-event.js';

export interface AuditWriterOptions {
  flushIntervalMs: number;
  batchSize: number;
  spoolFile: string;
}

export class AuditWriter {
  private queue: TrailRecord[] = [];
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  /** Records in the spool file, waiting for the store. */
  spooled = 0;

  constructor(
    private readonly sink: AuditSink,
    private readonly options: AuditWriterOptions,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
    // Records a previous process spooled (or was replaying) are replayed by the first flush.
    for (const file of [options.spoolFile, `${options.spoolFile}.replay`]) if (existsSync(file)) this.spooled += readSpool(file).length;
  }

  append(record: TrailRecord): void {
    this.queue.push(record);
    if (this.queue.length >= this.options.batchSize && !this.flushing) setImmediate(() => void this.flush());
  }

  /** Commits one record now (strict durability); spools it durably if the store refuses. */
  async writeNow(record: TrailRecord): Promise<void> {
    try {
      await this.sink.append([record]);
    } catch (err) {
      this.spool([record], err);
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

  private spool(records: TrailRecord[], err: unknown): void {
    mkdirSync(dirname(this.options.spoolFile), { recursive: true });
    const fd = openSync(this.options.spoolFile, 'a');
    try {
      writeSync(fd, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.spooled += records.length;
    this.log.error({ err, records: records.length, spool: this.options.spoolFile }, 'audit store refused a commit; records spooled to disk and replayed when it recovers');
  }

  private async replaySpool(): Promise<void> {
    // Each file is moved aside before replaying, so records spooled meanwhile are neither lost nor doubled.
    const replaying = `${this.options.spoolFile}.replay`;
    for (;;) {
      if (!existsSync(replaying)) {
        if (!existsSync(this.options.spoolFile)) break;
        renameSync(this.options.spoolFile, replaying);
      }
      const records = readSpool(replaying);
      try {
        if (records.length > 0) await this.sink.append(records);
      } catch {
        break; // still refused: retried on the next flush
      }
      unlinkSync(replaying);
      this.log.warn({ records: records.length }, 'spooled audit records replayed into the store');
    }
    this.spooled = [this.options.spoolFile, replaying].reduce((n, f) => n + (existsSync(f) ? readSpool(f).length : 0), 0);
  }
}

function readSpool(file: string): TrailRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as TrailRecord);
}

