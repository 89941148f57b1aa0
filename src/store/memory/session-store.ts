import type { AdminSession, SessionStore } from '../types.js';

/** Console sessions in process memory (tests; a single process that accepts sign-outs on restart). */
export class MemorySessionStore implements SessionStore {
  private readonly byHash = new Map<string, AdminSession>();

  async create(session: AdminSession): Promise<void> {
    if (this.byHash.has(session.idHash)) throw new Error('a session with this id already exists');
    this.byHash.set(session.idHash, structuredClone(session));
  }

  async get(idHash: string, now: number): Promise<AdminSession | undefined> {
    const session = this.live(idHash, now);
    return session && structuredClone(session);
  }

  async touch(idHash: string, now: number, idleExpiresAt: number): Promise<boolean> {
    const session = this.live(idHash, now);
    if (!session) return false;
    session.lastSeenAt = now;
    session.idleExpiresAt = Math.min(idleExpiresAt, session.expiresAt);
    return true;
  }

  async delete(idHash: string): Promise<boolean> {
    return this.byHash.delete(idHash);
  }

  async purgeExpired(now: number): Promise<number> {
    let n = 0;
    for (const [hash, session] of this.byHash) {
      if (expired(session, now)) {
        this.byHash.delete(hash);
        n++;
      }
    }
    return n;
  }

  private live(idHash: string, now: number): AdminSession | undefined {
    const session = this.byHash.get(idHash);
    return session && !expired(session, now) ? session : undefined;
  }
}

function expired(session: AdminSession, now: number): boolean {
  return session.idleExpiresAt <= now || session.expiresAt <= now;
}
