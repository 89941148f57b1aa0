import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AdminSession, SessionStore } from '../../src/store/types.js';

export interface OpenedSessionStore {
  sessions: SessionStore;
  close(): Promise<void>;
}

const T0 = 1_800_000_000_000;
const MIN = 60_000;

function session(idHash: string, overrides: Partial<AdminSession> = {}): AdminSession {
  return {
    idHash,
    principal: { id: 'alice@example.com', kind: 'user', role: 'reviewer', tenant: 'acme', name: 'Alice Ådahl' },
    createdAt: T0,
    lastSeenAt: T0,
    idleExpiresAt: T0 + 30 * MIN,
    expiresAt: T0 + 12 * 60 * MIN,
    ...overrides,
  };
}

/** What every SessionStore must do (memory, SQLite, PostgreSQL). */
export function sessionStoreConformance(open: () => Promise<OpenedSessionStore>): void {
  describe('SessionStore', () => {
    let opened: OpenedSessionStore;
    let sessions: SessionStore;
    beforeEach(async () => {
      opened = await open();
      sessions = opened.sessions;
    });
    afterEach(() => opened.close());

    it('returns a created session field for field, and nothing for an unknown hash', async () => {
      await sessions.create(session('h1'));
      expect(await sessions.get('h1', T0 + 1)).toEqual(session('h1'));
      expect(await sessions.get('nope', T0 + 1)).toBeUndefined();
    });

    it('keeps a token principal with all tenants and no name', async () => {
      const s = session('h1', { principal: { id: 'ops', kind: 'token', role: 'admin', tenant: null } });
      await sessions.create(s);
      expect(await sessions.get('h1', T0)).toEqual(s);
    });

    it('refuses a second session with the same hash', async () => {
      await sessions.create(session('h1'));
      await expect(sessions.create(session('h1', { principal: { id: 'mallory', kind: 'user', role: 'admin', tenant: null } }))).rejects.toThrow();
      expect((await sessions.get('h1', T0))?.principal.id).toBe('alice@example.com');
    });

    it('reads a session past its idle end, or its absolute end, as absent', async () => {
      await sessions.create(session('idle', { idleExpiresAt: T0 + 10 }));
      await sessions.create(session('abs', { idleExpiresAt: T0 + 100, expiresAt: T0 + 20 }));
      expect(await sessions.get('idle', T0 + 9)).toBeDefined();
      expect(await sessions.get('idle', T0 + 10)).toBeUndefined();
      expect(await sessions.get('abs', T0 + 19)).toBeDefined();
      expect(await sessions.get('abs', T0 + 20)).toBeUndefined();
    });

    it('touch moves the idle end forward, but never past the absolute end', async () => {
      await sessions.create(session('h1', { idleExpiresAt: T0 + MIN, expiresAt: T0 + 10 * MIN }));
      expect(await sessions.touch('h1', T0 + 50_000, T0 + 50_000 + MIN)).toBe(true);
      let s = await sessions.get('h1', T0 + 90_000);
      expect(s).toMatchObject({ lastSeenAt: T0 + 50_000, idleExpiresAt: T0 + 50_000 + MIN });
      expect(await sessions.touch('h1', T0 + 100_000, T0 + 20 * MIN)).toBe(true);
      s = await sessions.get('h1', T0 + 9 * MIN);
      expect(s?.idleExpiresAt).toBe(T0 + 10 * MIN);
      expect(await sessions.get('h1', T0 + 10 * MIN)).toBeUndefined();
    });

    it('touch does not revive an expired session, nor an unknown one', async () => {
      await sessions.create(session('h1', { idleExpiresAt: T0 + 10 }));
      expect(await sessions.touch('h1', T0 + 10, T0 + MIN)).toBe(false);
      expect(await sessions.get('h1', T0 + 5)).toMatchObject({ lastSeenAt: T0, idleExpiresAt: T0 + 10 });
      expect(await sessions.touch('nope', T0, T0 + MIN)).toBe(false);
    });

    it('deletes once (sign-out)', async () => {
      await sessions.create(session('h1'));
      await sessions.create(session('h2'));
      expect(await sessions.delete('h1')).toBe(true);
      expect(await sessions.delete('h1')).toBe(false);
      expect(await sessions.get('h1', T0)).toBeUndefined();
      expect(await sessions.get('h2', T0)).toBeDefined();
    });

    it('purgeExpired removes exactly the sessions expired (idle or absolute) at the time', async () => {
      await sessions.create(session('idle', { idleExpiresAt: T0 + 10 }));
      await sessions.create(session('abs', { idleExpiresAt: T0 + 100, expiresAt: T0 + 20 }));
      await sessions.create(session('edge', { idleExpiresAt: T0 + 20 }));
      await sessions.create(session('live', { idleExpiresAt: T0 + 21 }));
      expect(await sessions.purgeExpired(T0 + 20)).toBe(3);
      expect(await sessions.purgeExpired(T0 + 20)).toBe(0);
      // Gone even when read at an earlier time.
      expect(await sessions.get('idle', T0)).toBeUndefined();
      expect(await sessions.get('abs', T0)).toBeUndefined();
      expect(await sessions.get('live', T0)).toBeDefined();
    });

    it('gives out copies: changing a result does not change the store', async () => {
      await sessions.create(session('h1'));
      const got = await sessions.get('h1', T0);
      got!.principal.role = 'admin';
      expect((await sessions.get('h1', T0))?.principal.role).toBe('reviewer');
    });
  });
}
