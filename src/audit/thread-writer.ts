/**
 * The audit writer the gateway uses with an embedded SQLite file: each record is serialised here,
 * once, to the JSON text that is stored and hashed, with its indexed columns beside it
 * (`prepareRecord`); those strings and primitives are handed to the audit thread
 * (audit/thread.ts) — batched, one postMessage per 5 ms or 64 records — which hashes and
 * commits them on its own connection, never deserialising objects nor serialising them again.
 * The event loop pays the JSON.stringify and the copy of the text instead of a structured clone
 * of the object (on Node 20 that is more, not less: bench/README.md); the process as a whole
 * spends far less per record. Durability is the in-process writer's: batched commits every
 * `flush_interval` (a crash loses at most that and the 5 ms hand-over),
 * `writeNow` (strict) resolves once the thread has committed or spooled the record, `close`
 * flushes everything.
 *
 * If the thread dies, records it had not yet reported settled are sent again to a new thread,
 * which skips any it had in fact committed (so none is lost or stored twice); after
 * `MAX_RESTARTS` restarts within a minute, at the next death, the gateway stops using threads and
 * commits in-process.
 */
import { Worker } from 'node:worker_threads';
import { prepareRecord, type PreparedRecord } from '../store/audit-columns.js';
import type { TrailRecord } from './admin-event.js';
import type { AuditThreadOptions, FromAuditThread, ToAuditThread } from './thread.js';
import type { AuditLog, AuditWriter, WriteOutcome } from './writer.js';

const MAX_RESTARTS = 3;
/**
 * Appended records reach the thread at most this long after the first of them, or at once when
 * POST_BATCH have gathered: one postMessage and one wake-up of the thread per batch rather than
 * per turn of the event loop (under load the two share a core, and each wake-up costs a context
 * switch). Well inside the default flush_interval (200 ms) a record may wait anyway.
 */
const POST_DELAY_MS = 5;
const POST_BATCH = 64;
/** The thread holds little (a queue of records): a small young generation keeps its memory small. */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 4 };
const RESTART_WINDOW_MS = 60_000;

type Call = Extract<ToAuditThread, { id: number }>;

interface PendingCall {
  message: Call;
  resolve: (outcome?: WriteOutcome) => void;
  reject: (err: Error) => void;
}

export interface ThreadedAuditWriterOptions extends AuditThreadOptions {
  /** The in-process writer to fall back on when the thread keeps dying. */
  fallback: () => AuditWriter;
}

export class ThreadedAuditWriter implements AuditWriter {
  private worker!: Worker;
  /** Appended, not yet posted (see POST_DELAY_MS). */
  private outbox: PreparedRecord[] = [];
  private postTimer: NodeJS.Timeout | undefined;
  /** Posted and not yet reported settled, oldest first, from index `settledUpTo` (kept for a resend). */
  private unsettled: PreparedRecord[] = [];
  private settledUpTo = 0;
  private readonly calls = new Map<number, PendingCall>();
  private nextId = 1;
  private deaths: number[] = [];
  private closing = false;
  /** A thread has said it is ready (later threads are restarts: their callers wait through `calls`). */
  private started = false;
  private fallback: AuditWriter | undefined;
  private lastSpooled = 0;
  /** Exits of the current thread: resolved when it ends. */
  private exited!: Promise<void>;
  private markReady!: () => void;
  /** Resolved once the first thread has opened its connection (or the writer fell back to in-process). */
  readonly ready = new Promise<void>((resolve) => (this.markReady = resolve));

  constructor(
    private readonly options: ThreadedAuditWriterOptions,
    private readonly log: AuditLog & { info?: (fields: object, message: string) => void },
  ) {
    this.start(false);
  }

  append(record: TrailRecord): void {
    if (this.fallback) return this.fallback.append(record);
    // Serialised now, while the record is young: only the text and columns outlive this call.
    this.outbox.push(prepareRecord(record));
    if (this.outbox.length >= POST_BATCH) this.post();
    else this.postTimer ??= setTimeout(this.post, POST_DELAY_MS);
  }

  writeNow(record: TrailRecord): Promise<WriteOutcome> {
    if (this.fallback) return this.fallback.writeNow(record);
    return this.call({ t: 'write', id: this.nextId++, record: prepareRecord(record) }).then((outcome) => outcome ?? 'committed');
  }

  flush(): Promise<void> {
    if (this.fallback) return this.fallback.flush();
    return this.call({ t: 'flush', id: this.nextId++ }).then(() => undefined);
  }

  async close(): Promise<void> {
    if (this.fallback) return this.fallback.close();
    this.closing = true;
    this.holdWhileWaiting();
    await this.call({ t: 'close', id: this.nextId++ });
    await this.exited;
    // Fell back while closing: the in-process writer holds what was left.
    if (this.fallback) await (this.fallback as AuditWriter).close();
  }

  get pending(): number {
    return this.fallback ? this.fallback.pending : this.outbox.length + this.unsettled.length - this.settledUpTo;
  }

  get spooled(): number {
    return this.fallback ? this.fallback.spooled : this.lastSpooled;
  }

  /** The thread, for tests that kill it. */
  get thread(): Worker {
    return this.worker;
  }

  private readonly post = (): void => {
    if (this.postTimer) {
      clearTimeout(this.postTimer);
      this.postTimer = undefined;
    }
    if (this.outbox.length === 0 || this.fallback) return;
    const records = this.outbox;
    this.outbox = [];
    for (const r of records) this.unsettled.push(r);
    this.send({ t: 'records', records });
  };

  private call(message: Call): Promise<WriteOutcome | undefined> {
    // Records appended before the call go first, so a flush covers them and order holds.
    this.post();
    return new Promise<WriteOutcome | undefined>((resolve, reject) => {
      this.calls.set(message.id, { message, resolve, reject });
      this.holdWhileWaiting();
      this.send(message);
    });
  }

  private holdWhileWaiting(): void {
    // Closing too: `close` awaits the thread's exit after its last call has been answered.
    if (!this.started || this.closing || this.calls.size > 0) this.worker.ref();
    else this.worker.unref();
  }

  private send(message: ToAuditThread): void {
    this.worker.postMessage(message);
  }

  private start(resend: boolean): void {
    const worker = spawn(this.options);
    this.worker = worker;
    // Referenced (keeps the process alive) while starting and while a caller awaits it (`ready`,
    // flush, writeNow, close); otherwise it must not hold a finished process open.
    this.holdWhileWaiting();
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromAuditThread) => this.receive(m));
    worker.on('error', (err) => this.log.error({ err }, 'the audit thread failed'));
    worker.on('exit', (code) => this.exit(worker, code));
    if (!resend) return;
    const left = this.unsettled.slice(this.settledUpTo);
    this.unsettled = left;
    this.settledUpTo = 0;
    if (left.length > 0) worker.postMessage({ t: 'records', records: left, resent: true } satisfies ToAuditThread);
    for (const { message } of this.calls.values()) worker.postMessage(message.t === 'write' ? { ...message, resent: true } : message);
  }

  private receive(m: FromAuditThread): void {
    switch (m.t) {
      case 'ready':
        this.started = true;
        this.markReady();
        this.holdWhileWaiting();
        return;
      case 'settled':
        this.lastSpooled = m.spooled;
        this.settledUpTo += m.records;
        // Drop settled records once they are the larger part, so the array does not grow forever.
        if (this.settledUpTo > 256 && this.settledUpTo * 2 > this.unsettled.length) {
          this.unsettled = this.unsettled.slice(this.settledUpTo);
          this.settledUpTo = 0;
        }
        return;
      case 'done': {
        this.lastSpooled = m.spooled;
        const call = this.calls.get(m.id);
        this.calls.delete(m.id);
        if (!call) return;
        this.holdWhileWaiting();
        if (m.error) call.reject(new Error(m.error));
        else call.resolve(m.outcome);
        return;
      }
      case 'log':
        this.log[m.level](m.fields, m.message);
        return;
    }
  }

  private exit(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    const clean = this.closing && this.calls.size === 0 && this.pending === 0;
    if (clean) return;
    const now = Date.now();
    this.deaths = [...this.deaths.filter((t) => now - t < RESTART_WINDOW_MS), now];
    if (this.deaths.length > MAX_RESTARTS) return this.fallBack(code);
    this.log.error({ code, unsettled: this.pending, restarts: this.deaths.length }, 'the audit thread exited; restarting it and sending it the records not yet committed');
    this.start(true);
  }

  /** The thread keeps dying: hand everything to an in-process writer, in order (as records again: it stores them as they were). */
  private fallBack(code: number): void {
    this.log.error({ code, restarts: this.deaths.length }, `the audit thread died ${this.deaths.length} times within a minute; committing audit records on the main thread from now on`);
    const fallback = this.options.fallback();
    this.fallback = fallback;
    this.markReady();
    for (const r of this.unsettled.slice(this.settledUpTo)) fallback.append(recordOf(r));
    for (const r of this.outbox) fallback.append(recordOf(r));
    this.unsettled = [];
    this.settledUpTo = 0;
    this.outbox = [];
    for (const { message, resolve, reject } of this.calls.values()) {
      const work: Promise<WriteOutcome | void> = message.t === 'write' ? fallback.writeNow(recordOf(message.record)) : fallback.flush();
      work.then((outcome) => resolve(outcome ?? undefined), reject);
    }
    this.calls.clear();
  }
}

/** The record a prepared one was made from: JSON.stringify of it gives the same text again. */
function recordOf(prepared: PreparedRecord): TrailRecord {
  return JSON.parse(prepared.text) as TrailRecord;
}

/**
 * Starts audit/thread: the compiled `thread.js` next to this file, or — when the gateway runs
 * from its TypeScript sources (tests, `npm run dev`) — `thread.ts` through tsx's loader.
 */
function spawn(options: AuditThreadOptions): Worker {
  const workerData: AuditThreadOptions = { path: options.path, synchronous: options.synchronous, flushIntervalMs: options.flushIntervalMs, batchSize: options.batchSize, spoolFile: options.spoolFile };
  if (import.meta.url.endsWith('.js')) return new Worker(new URL('./thread.js', import.meta.url), { workerData, resourceLimits: THREAD_LIMITS });
  const source = new URL('./thread.ts', import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); });`, { eval: true, workerData });
}
