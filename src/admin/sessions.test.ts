/**
 * ConsoleSessions and sessionResolver: timeouts on a controlled clock, the per-replica cache
 * (sign-out at once here, within cache_ttl on another replica sharing the store, a real SQLite
 * file), store traffic, and CSRF on every unsafe method of a small Fastify app.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError, toOpenAIError } from '../errors.js';
import { MemorySessionStore } from '../store/memory/session-store.js';
import { MemorySignalBus } from '../store/memory/signals.js';
import { openSqliteStores, type SqliteStores } from '../store/sqlite/stores.js';
import type { AdminSession, SessionStore } from '../store/types.js';
import type { AdminPrincipal } from './principal.js';
import { ConsoleSessions, csrfTokenFor, sessionIdHash, sessionResolver } from './sessions.js';

const T0 = 1_800_000_000_000;
const SETTINGS = { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 8 * 3_600_000, cacheTtlMs: 5000 };
const ALICE: AdminPrincipal = { id: 'alice@example.com', kind: 'user', role: 'reviewer', tenant: 'acme', name: 'Alice' };

/** A store that counts its calls, to show what the cache saves. */
function counting(store: SessionStore): SessionStore & { calls: Record<string, number> } {
  const calls: Record<string, number> = { create: 0, get: 0, touch: 0, delete: 0, purgeExpired: 0 };
  return {
    calls,
    create: (s: AdminSession) => (calls.create!++, store.create(s)),
    get: (h: string, n: number) => (calls.get!++, store.get(h, n)),
    touch: (h: string, n: number, i: number) => (calls.touch!++, store.touch(h, n, i)),
    delete: (h: string) => (calls.delete!++, store.delete(h)),
    purgeExpired: (n: number) => (calls.purgeExpired!++, store.purgeExpired(n)),
  };
}

describe('ConsoleSessions', () => {
  it('stores only the hash of the id; the CSRF token is derived from the id', async () => {
    const store = new MemorySessionStore();
    const sessions = new ConsoleSessions(store, SETTINGS, () => T0);
    const started = await sessions.start(ALICE);
    expect(started.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(started.csrfToken).toBe(csrfTokenFor(started.id));
    expect(started.csrfToken).not.toBe(started.id);
    expect(await store.get(started.id, T0)).toBeUndefined();
    const stored = await store.get(sessionIdHash(started.id), T0);
    expect(stored).toEqual({ idHash: sessionIdHash(started.id), principal: ALICE, createdAt: T0, lastSeenAt: T0, idleExpiresAt: T0 + SETTINGS.idleTimeoutMs, expiresAt: T0 + SETTINGS.absoluteTimeoutMs });
    expect(JSON.stringify(stored)).not.toContain(started.csrfToken);
  });

  it('reads the store at most once per cache_ttl, and records activity at most once a minute', async () => {
    let now = T0;
    const store = counting(new MemorySessionStore());
    const sessions = new ConsoleSessions(store, SETTINGS, () => now);
    const { id } = await sessions.start(ALICE);
    for (let i = 0; i < 100; i++) expect((await sessions.resolve(id))?.principal).toEqual(ALICE);
    expect(store.calls.get).toBe(0); // fresh from start()
    now += SETTINGS.cacheTtlMs;
    await sessions.resolve(id);
    expect(store.calls).toMatchObject({ get: 1, touch: 0 });
    now = T0 + 61_000;
    await sessions.resolve(id);
    expect(store.calls).toMatchObject({ get: 2, touch: 1 });
    expect((await store.get(sessionIdHash(id), now))?.idleExpiresAt).toBe(now + SETTINGS.idleTimeoutMs);
  });

  it('ends a session idle longer than idle_timeout, and any session at absolute_timeout', async () => {
    let now = T0;
    const sessions = new ConsoleSessions(new MemorySessionStore(), { ...SETTINGS, idleTimeoutMs: 10 * 60_000, absoluteTimeoutMs: 25 * 60_000 }, () => now);
    const idle = await sessions.start(ALICE);
    const active = await sessions.start(ALICE);
    // `active` is used every 2 minutes; `idle` never again.
    for (now = T0; now < T0 + 24 * 60_000; now += 2 * 60_000) expect(await sessions.resolve(active.id)).toBeDefined();
    expect(await sessions.resolve(idle.id)).toBeUndefined();
    now = T0 + 24 * 60_000;
    expect(await sessions.resolve(active.id)).toBeDefined();
    now = T0 + 25 * 60_000;
    expect(await sessions.resolve(active.id)).toBeUndefined();
  });

  it('refuses forged and malformed ids without asking the store twice', async () => {
    const store = counting(new MemorySessionStore());
    const sessions = new ConsoleSessions(store, SETTINGS, () => T0);
    const forged = 'A'.repeat(43);
    expect(await sessions.resolve(forged)).toBeUndefined();
    expect(await sessions.resolve(forged)).toBeUndefined();
    expect(await sessions.resolve('short')).toBeUndefined();
    expect(await sessions.resolve('x'.repeat(5000))).toBeUndefined();
    expect(store.calls.get).toBe(1);
  });

  describe('two replicas sharing one SQLite store', () => {
    let dir: string;
    let stores: SqliteStores;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'omega-sessions-'));
      stores = await openSqliteStores(`sqlite://${join(dir, 'omega.db')}`);
    });
    afterAll(async () => {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a sign-out holds at once on its replica and within cache_ttl on the other', async () => {
      let now = T0;
      const a = new ConsoleSessions(stores.sessions, SETTINGS, () => now);
      const b = new ConsoleSessions(stores.sessions, SETTINGS, () => now);
      const { id } = await a.start(ALICE);
      expect((await b.resolve(id))?.principal).toEqual(ALICE); // B reads it from the store
      await a.end(id);
      expect(await a.resolve(id)).toBeUndefined();
      now += SETTINGS.cacheTtlMs - 1;
      expect(await b.resolve(id)).toBeDefined(); // B's cached copy, still within the bound
      now += 1;
      expect(await b.resolve(id)).toBeUndefined();
      expect(await stores.sessions.get(sessionIdHash(id), now)).toBeUndefined();
    });

    it('with the sign-out announced on the signal bus, the other replica stops at once', async () => {
      const bus = new MemorySignalBus();
      const announce = (h: string) => bus.publish('session.ended', h);
      const a = new ConsoleSessions(stores.sessions, SETTINGS, Date.now, announce);
      const b = new ConsoleSessions(stores.sessions, SETTINGS, Date.now, announce);
      await bus.subscribe('session.ended', (h) => b.evict(h));
      const { id } = await a.start(ALICE);
      expect(await b.resolve(id)).toBeDefined();
      await a.end(id);
      await new Promise((r) => setImmediate(r)); // the bus delivers on a later tick, as Redis would
      expect(await b.resolve(id)).toBeUndefined();
      await bus.close();
    });

    it('purges expired sessions from the store', async () => {
      let now = T0;
      const sessions = new ConsoleSessions(stores.sessions, SETTINGS, () => now);
      await sessions.start(ALICE);
      now += SETTINGS.absoluteTimeoutMs;
      expect(await sessions.purgeExpired()).toBeGreaterThanOrEqual(1);
      expect(await stores.db.selectFrom('admin_sessions').selectAll().execute()).toEqual([]);
    });
  });
});

describe('sessionResolver on a Fastify app', () => {
  let app: FastifyInstance;
  let sessions: ConsoleSessions;
  beforeAll(async () => {
    sessions = new ConsoleSessions(new MemorySessionStore(), SETTINGS);
    const resolve = sessionResolver(sessions);
    app = Fastify();
    app.decorateRequest('adminCsrfToken', null);
    app.setErrorHandler((err, _request, reply) => {
      const { status, body } = toOpenAIError(err instanceof GatewayError ? err : new GatewayError('internal_error', 'x'));
      return reply.code(status).send(body);
    });
    app.addHook('onRequest', async (request) => {
      const principal = await resolve(request);
      (request as unknown as { principal: unknown }).principal = principal;
    });
    app.all('/thing', async (request) => ({ principal: (request as unknown as { principal: unknown }).principal, csrf: request.adminCsrfToken }));
    await app.ready();
  });
  afterAll(() => app.close());

  it('is null without the cookie (other resolvers decide), and resolves a live session on reads', async () => {
    expect((await app.inject({ method: 'GET', url: '/thing' })).json()).toEqual({ principal: null, csrf: null });
    const { id, csrfToken } = await sessions.start(ALICE);
    const res = await app.inject({ method: 'GET', url: '/thing', headers: { cookie: `theme=dark; omega_session=${id}; other=1` } });
    expect(res.json()).toEqual({ principal: ALICE, csrf: csrfToken });
  });

  it('answers 403 csrf_failed to every unsafe method without the right x-csrf-token', async () => {
    const { id, csrfToken } = await sessions.start(ALICE);
    const other = await sessions.start(ALICE);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      for (const token of [undefined, '', 'wrong', other.csrfToken, csrfToken.toUpperCase()]) {
        const res = await app.inject({ method, url: '/thing', headers: { cookie: `omega_session=${id}`, ...(token === undefined ? {} : { 'x-csrf-token': token }) } });
        expect(res.statusCode, `${method} with ${token}`).toBe(403);
        expect(res.json().error).toMatchObject({ code: 'csrf_failed', type: 'permission_error' });
      }
      const ok = await app.inject({ method, url: '/thing', headers: { cookie: `omega_session=${id}`, 'x-csrf-token': csrfToken } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().principal).toEqual(ALICE);
    }
  });

  it('answers 401 for a cookie naming no live session', async () => {
    const { id } = await sessions.start(ALICE);
    await sessions.end(id);
    for (const cookie of [`omega_session=${id}`, 'omega_session=forged', 'omega_session=']) {
      const res = await app.inject({ method: 'GET', url: '/thing', headers: { cookie } });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('admin_unauthenticated');
    }
  });
});
