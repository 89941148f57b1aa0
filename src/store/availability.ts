/**
 * Degraded mode for the durable store (`storage.on_unavailable`), the PostgreSQL counterpart of
 * store/redis/failover.ts. Every store call goes through `run`: when one fails because the
 * database cannot be reached (connection refused or cut, server shutting down, connect timeout,
 * SQLite I/O failure) the store is marked down, and from then on calls fail at once with 503
 * `store_unavailable` instead of each waiting on a dead connection. A probe pings the database
 * with backoff (250 ms doubling to 2 s) and marks it up when it answers; recovery hooks then run
 * (the audit writer replays its spool, stored responses kept in memory are written).
 *
 * What the request path does meanwhile is each concern's decision (`decide`), per the mode:
 * - `open`: serve from what this process holds — runtime keys from the (expired) key cache,
 *   strict audit records to the fsynced spool, stored responses kept in memory until written;
 * - `closed`: refuse with 503 `store_unavailable` whatever would need the database.
 * Batched audit records are always spooled and replayed; admin writes and reads, review holds
 * and `previous_response_id` lookups cannot be served without the database in either mode.
 */
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';

export type OnStorageUnavailable = 'open' | 'closed';

/** The request-path concerns that decide something while the store is down (metric label). */
export type StorageConcern = 'keys' | 'audit' | 'responses';

const PROBE_START_MS = 250;
const PROBE_MAX_MS = 2_000;

/** SQLSTATE classes and driver errors that mean "the database is not there", not "this query is wrong". */
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
const UNAVAILABLE_MESSAGE = /connection terminated|timeout exceeded when trying to connect|connection (?:error|ended)|Client has encountered a connection error|Connection refused|the database system is (?:starting up|shutting down|in recovery)|cannot use a pool after calling end|not queryable/i;

/** Whether `err` says the store cannot be reached (as opposed to a bad query or a constraint). */
export function isStoreUnreachable(err: unknown): boolean {
  if (err instanceof GatewayError) return err.code === 'store_unavailable';
  const e = err as { code?: unknown; message?: unknown; errors?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  // 08xxx connection exception, 57P01-03 admin/crash shutdown and cannot connect now, 53xxx insufficient resources.
  if (/^(08|57P0[1-3]|53)/.test(code)) return true;
  if (UNAVAILABLE_ERRNO.has(code)) return true;
  if (/^SQLITE_(IOERR|FULL|CANTOPEN)/.test(code)) return true;
  // AggregateError (happy eyeballs: every address refused).
  if (Array.isArray(e.errors) && e.errors.some(isStoreUnreachable)) return true;
  return typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message);
}

export function storeUnavailable(what: string): GatewayError {
  return new GatewayError('store_unavailable', `${what} cannot be done right now: the gateway's database is unreachable. Retry shortly.`);
}

export class StoreAvailability {
  private downSince: number | null = null;
  private probeTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly recoveryHooks: (() => unknown)[] = [];
  /** Degraded decisions so far, by `concern|served` or `concern|refused` (a counter metric). */
  readonly decisions = new Map<string, number>();

  /**
   * @param backend `postgres` or `sqlite` (log lines, metric label)
   * @param ping    a cheap round trip to the database (`select 1`), used by the probe
   */
  constructor(
    readonly backend: 'postgres' | 'sqlite',
    readonly mode: OnStorageUnavailable,
    private readonly ping: () => Promise<void>,
    private readonly log: Logger,
  ) {}

  get down(): boolean {
    return this.downSince !== null;
  }

  /** Runs one store call: fails at once while the store is down; a connection failure marks it down. */
  async run<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.downSince !== null) throw storeUnavailable(what);
    try {
      return await work();
    } catch (err) {
      if (err instanceof GatewayError || !isStoreUnreachable(err)) throw err;
      this.markDown(err);
      throw storeUnavailable(what);
    }
  }

  /**
   * A request-path concern meets the store down: in `open` mode it serves from what it holds
   * (returns true), in `closed` it refuses (returns false). Counted either way.
   */
  decide(concern: StorageConcern, canServe = true): boolean {
    const served = this.mode === 'open' && canServe;
    const key = `${concern}|${served ? 'served' : 'refused'}`;
    this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
    return served;
  }

  /** Runs `hook` each time the store comes back (after the transition is logged). */
  onRecovery(hook: () => unknown): void {
    this.recoveryHooks.push(hook);
  }

  /** Readiness: pings while up (a failure marks it down); never waits on a store known to be down. */
  async check(): Promise<{ state: 'up' | 'down'; mode?: OnStorageUnavailable; since?: string }> {
    if (this.downSince === null) {
      try {
        await this.run('A readiness check', this.ping);
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err;
      }
    }
    return this.downSince === null ? { state: 'up' } : { state: 'down', mode: this.mode, since: new Date(this.downSince).toISOString() };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.probeTimer);
  }

  private markDown(err: unknown): void {
    if (this.downSince !== null) return;
    this.downSince = Date.now();
    const message = (err as Error)?.message;
    this.log.error(
      { err: { message, code: (err as { code?: unknown })?.code }, backend: this.backend, mode: this.mode },
      this.mode === 'open'
        ? `${this.backend} unreachable: audit records are spooled to disk, runtime keys served from cache, admin writes refused (503 store_unavailable) until it answers again`
        : `${this.backend} unreachable: refusing (503 store_unavailable) requests that need it, and admin writes, until it answers again`,
    );
    this.probe(PROBE_START_MS);
  }

  private probe(delay: number): void {
    if (this.closed) return;
    this.probeTimer = setTimeout(() => {
      this.ping().then(
        () => {
          if (this.closed) return;
          this.log.warn({ backend: this.backend, downMs: Date.now() - this.downSince! }, `${this.backend} answers again: storage back to normal (spooled audit records are replayed)`);
          this.downSince = null;
          for (const hook of this.recoveryHooks) {
            try {
              void Promise.resolve(hook()).catch((err: unknown) => this.log.error({ err }, 'a storage recovery step failed'));
            } catch (err) {
              this.log.error({ err }, 'a storage recovery step failed');
            }
          }
        },
        () => this.probe(Math.min(delay * 2, PROBE_MAX_MS)),
      );
    }, delay);
    this.probeTimer.unref();
  }
}

/**
 * The same stores with every method call going through `availability.run` (so a dead database
 * answers 503 store_unavailable at once, and its failure is noticed by every concern). `ping`
 * and `close` are left as they are.
 */
export function guardStores<S extends { ping(): Promise<void>; close(): Promise<void> }>(stores: S, availability: StoreAvailability): S {
  const guarded: Record<string, unknown> = { ...stores };
  for (const [name, value] of Object.entries(stores)) {
    if (name === 'ping' || name === 'close' || name === 'db' || name === 'kind') continue;
    if (value && typeof value === 'object') guarded[name] = guardObject(value as object, availability, name);
  }
  return guarded as S;
}

const WHAT: Record<string, string> = {
  keys: 'Reading or changing API keys',
  audit: 'Writing the audit trail',
  auditQuery: 'Reading the audit trail',
  policies: 'Reading or changing policies',
  reviews: 'Reading or changing review items',
  responses: 'Reading or storing responses',
};

/** A proxy whose methods run through `availability`; other properties pass through. */
function guardObject<T extends object>(target: T, availability: StoreAvailability, name: string): T {
  const what = WHAT[name] ?? 'This operation';
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(prop);
      if (!fn) {
        fn = (...args: unknown[]) => availability.run(what, () => (value as (...a: unknown[]) => Promise<unknown>).apply(obj, args));
        wrapped.set(prop, fn);
      }
      return fn;
    },
  });
}
