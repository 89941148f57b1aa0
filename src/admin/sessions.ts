/**
 * Console sessions: the `omega_session` cookie carries a random id; the store (SQLite or
 * PostgreSQL, shared by replicas) keeps only its sha256, with the principal and the idle and
 * absolute ends. The CSRF token is derived from the id (an HMAC keyed by it), so it is never
 * stored and a copy of the database yields neither cookie nor token.
 *
 * Reading a session costs no store round trip per request: a replica trusts what it read for
 * `admin.sessions.cache_ttl`, then reads it again (and records activity at most once a minute).
 * A sign-out evicts the session from the replica that served it at once; the others notice
 * within `cache_ttl`.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../errors.js';
import type { AdminSession, SessionStore } from '../store/types.js';
import type { AdminPrincipal, PrincipalResolver } from './principal.js';

export const SESSION_COOKIE = 'omega_session';

/** 32 random bytes, base64url: what a genuine cookie looks like (anything else is refused unread). */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Activity is written to the store at most this often per session and replica (idle ends move in these steps). */
const TOUCH_EVERY_MS = 60_000;
/** Sessions a replica keeps in memory; beyond it the least recently refreshed are dropped (and read again). */
const MAX_CACHED = 10_000;

export interface SessionSettings {
  idleTimeoutMs: number;
  absoluteTimeoutMs: number;
  /** How long a read session is trusted before it is read again. */
  cacheTtlMs: number;
}

export interface StartedSession {
  /** The cookie value: shown to the browser once, never stored. */
  id: string;
  csrfToken: string;
  /** Seconds until the absolute end (the cookie's Max-Age). */
  maxAgeSeconds: number;
}

export interface ResolvedSession {
  principal: AdminPrincipal;
  csrfToken: string;
}

interface CacheEntry {
  session: AdminSession;
  /** When the store was last read (or written) for it. */
  readAt: number;
}

/** The sha256 (hex) of a session id: the store's key. */
export function sessionIdHash(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** The CSRF token of a session: an HMAC keyed by the session id, so it needs no storage. */
export function csrfTokenFor(id: string): string {
  return createHmac('sha256', id).update('omega console csrf').digest('base64url');
}

/** Console sessions over a SessionStore, with the per-replica cache described above. */
export class ConsoleSessions {
  private readonly cache = new Map<string, CacheEntry>();
  /** Hashes known not to be live sessions (forged, expired, signed out): ids never come back to life. */
  private readonly absent = new Map<string, number>();

  constructor(
    private readonly store: SessionStore,
    readonly settings: SessionSettings,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Signs a principal in: a new session, its cookie value and CSRF token. */
  async start(principal: AdminPrincipal): Promise<StartedSession> {
    const id = randomBytes(32).toString('base64url');
    const now = this.clock();
    const { idleTimeoutMs, absoluteTimeoutMs } = this.settings;
    const session: AdminSession = {
      idHash: sessionIdHash(id),
      principal: { id: principal.id, kind: principal.kind, role: principal.role, tenant: principal.tenant, ...(principal.name ? { name: principal.name } : {}) },
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt: Math.min(now + idleTimeoutMs, now + absoluteTimeoutMs),
      expiresAt: now + absoluteTimeoutMs,
    };
    await this.store.create(session);
    this.remember(session, now);
    return { id, csrfToken: csrfTokenFor(id), maxAgeSeconds: Math.floor(absoluteTimeoutMs / 1000) };
  }

  /** The live session of a cookie value, or undefined (malformed, unknown, expired, signed out). */
  async resolve(id: string): Promise<ResolvedSession | undefined> {
    if (!SESSION_ID.test(id)) return undefined;
    const hash = sessionIdHash(id);
    const now = this.clock();
    const absentUntil = this.absent.get(hash);
    if (absentUntil !== undefined) {
      if (absentUntil > now) return undefined;
      this.absent.delete(hash);
    }
    let entry = this.cache.get(hash);
    if (entry && (now - entry.readAt >= this.settings.cacheTtlMs || !live(entry.session, now))) entry = undefined;
    if (!entry) {
      const session = await this.refresh(hash, now);
      if (!session) {
        this.forget(hash, now);
        return undefined;
      }
      entry = this.remember(session, now);
    }
    const { principal } = entry.session;
    return { principal: { ...principal }, csrfToken: csrfTokenFor(id) };
  }

  /** Signs out: deleted from the store, forgotten by this replica at once. */
  async end(id: string): Promise<void> {
    if (!SESSION_ID.test(id)) return;
    const hash = sessionIdHash(id);
    this.forget(hash, this.clock());
    await this.store.delete(hash);
  }

  /** Deletes expired sessions from the store (run periodically by one or every replica). */
  purgeExpired(): Promise<number> {
    return this.store.purgeExpired(this.clock());
  }

  /** Reads a session from the store, recording activity when the last record is older than a minute. */
  private async refresh(hash: string, now: number): Promise<AdminSession | undefined> {
    const session = await this.store.get(hash, now);
    if (!session || now - session.lastSeenAt < TOUCH_EVERY_MS) return session;
    const idleExpiresAt = Math.min(now + this.settings.idleTimeoutMs, session.expiresAt);
    if (!(await this.store.touch(hash, now, idleExpiresAt))) return undefined;
    return { ...session, lastSeenAt: now, idleExpiresAt };
  }

  private remember(session: AdminSession, now: number): CacheEntry {
    const entry = { session, readAt: now };
    this.cache.delete(session.idHash); // re-inserted last: the Map's order is the refresh order
    this.cache.set(session.idHash, entry);
    if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }

  private forget(hash: string, now: number): void {
    this.cache.delete(hash);
    this.absent.delete(hash);
    this.absent.set(hash, now + this.settings.cacheTtlMs);
    if (this.absent.size > MAX_CACHED) this.absent.delete(this.absent.keys().next().value!);
  }
}

function live(session: AdminSession, now: number): boolean {
  return session.idleExpiresAt > now && session.expiresAt > now;
}

/** The session cookie's value in a request, or undefined (read by hand: no cookie plugin on the admin API's hot path). */
export function sessionCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header || !header.includes(SESSION_COOKIE)) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The console's PrincipalResolver for /admin/v1: null without a session cookie; 401 for a cookie
 * that names no live session; for unsafe methods, 403 `csrf_failed` unless `x-csrf-token`
 * matches the session's token (compared in constant time). Sets `request.adminCsrfToken`.
 * @example
 * adminApi(app, deps, edge, { modules, resolvers: [sessionResolver(sessions)] });
 */
export function sessionResolver(sessions: ConsoleSessions): PrincipalResolver {
  return async (request) => {
    const id = sessionCookieOf(request);
    if (id === undefined) return null;
    const resolved = await sessions.resolve(id);
    if (!resolved) throw new GatewayError('admin_unauthenticated', 'The console session has expired or was signed out: sign in again.');
    if (UNSAFE_METHODS.has(request.method) && !csrfMatches(request.headers['x-csrf-token'], resolved.csrfToken)) {
      throw new GatewayError('csrf_failed', 'Missing or wrong x-csrf-token header: writes with a console session must send the token GET /admin/v1/session returns.');
    }
    request.adminCsrfToken = resolved.csrfToken;
    return resolved.principal;
  };
}

/** Whether a presented `x-csrf-token` is the expected one (constant time). */
export function csrfMatches(presented: string | string[] | undefined, expected: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  // Equal-length digests: the comparison's time says nothing about the token.
  return timingSafeEqual(a, b);
}
