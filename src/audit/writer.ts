/**
 * Takes audit records off the hot path: `append` only queues; a group commit writes the queue
 * every `flush_interval` ms, or at once when `batch_size` records wait. `close()` drains the
 * queue, so a graceful shutdown loses nothing. A failed commit keeps its records queued and
 * is retried on the next flush.
 */
import type { Logger } from 'pino';
import type { AuditSink } from '../store/types.js';
import type { AuditRecord } from './record.js';

export class AuditWriter {
  private queue: AuditRecord[] = [];
  private flushing: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly sink: AuditSink,
    private readonly options: { flushIntervalMs: number; batchSize: number },
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs);
    this.timer.unref();
  }

  append(record: AuditRecord): void {
    this.queue.push(record);
    if (this.queue.length >= this.options.batchSize && !this.flushing) setImmediate(() => void this.flush());
  }

  /** Records queued and not yet committed. */
  get pending(): number {
    return this.queue.length;
  }

  /** Commits everything queued so far. Concurrent calls share one commit. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.flushing = this.sink
      .append(batch)
      .catch((err: unknown) => {
        this.queue = batch.concat(this.queue);
        this.log.error({ err, records: batch.length }, 'audit commit failed; records kept in memory and retried');
        if (this.closed) throw err;
      })
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  /** Stops the timer and commits what is queued (retrying while records arrive). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    while (this.flushing || this.queue.length > 0) {
      await this.flushing;
      await this.flush();
    }
  }
}
