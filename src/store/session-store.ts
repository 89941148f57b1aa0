/**
 * Console sessions, one implementation for SQLite and PostgreSQL: the same table. Only a hash of
 * the session id is stored, so a copy of the database signs nobody in. `idle_expires_at` is kept
 * at or before `expires_at`, so it alone says when a session ends (one indexed column to purge by).
 */
import type { Kysely, Selectable } from 'kysely';
import type { AdminSession, SessionStore } from './types.js';
import type { AdminSessionsTable } from './sqlite/database.js';

type SessionsDb = Kysely<{ admin_sessions: AdminSessionsTable }>;

export class KyselySessionStore<DB extends { admin_sessions: AdminSessionsTable }> implements SessionStore {
  private readonly db: SessionsDb;

  constructor(db: Kysely<DB>) {
    // Kysely's table types are invariant: the store sees only the table it uses.
    this.db = db as unknown as SessionsDb;
  }

  async create(session: AdminSession): Promise<void> {
    const { principal } = session;
    await this.db
      .insertInto('admin_sessions')
      .values({
        id_hash: session.idHash,
        principal_id: principal.id,
        principal_kind: principal.kind,
        role: principal.role,
        tenant: principal.tenant,
        name: principal.name ?? null,
        created_at: session.createdAt,
        last_seen_at: session.lastSeenAt,
        idle_expires_at: Math.min(session.idleExpiresAt, session.expiresAt),
        expires_at: session.expiresAt,
      })
      .execute();
  }

  async get(idHash: string, now: number): Promise<AdminSession | undefined> {
    const row = await this.db.selectFrom('admin_sessions').selectAll().where('id_hash', '=', idHash).where('idle_expires_at', '>', now).executeTakeFirst();
    return row && toSession(row);
  }

  async touch(idHash: string, now: number, idleExpiresAt: number): Promise<boolean> {
    const res = await this.db
      .updateTable('admin_sessions')
      .set((eb) => ({
        last_seen_at: now,
        // Never past the absolute end.
        idle_expires_at: eb.case().when('expires_at', '<', idleExpiresAt).then(eb.ref('expires_at')).else(idleExpiresAt).end(),
      }))
      .where('id_hash', '=', idHash)
      .where('idle_expires_at', '>', now)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async delete(idHash: string): Promise<boolean> {
    const res = await this.db.deleteFrom('admin_sessions').where('id_hash', '=', idHash).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async purgeExpired(now: number): Promise<number> {
    const res = await this.db.deleteFrom('admin_sessions').where('idle_expires_at', '<=', now).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

function toSession(row: Selectable<AdminSessionsTable>): AdminSession {
  return {
    idHash: row.id_hash,
    principal: {
      id: row.principal_id,
      kind: row.principal_kind as AdminSession['principal']['kind'],
      role: row.role as AdminSession['principal']['role'],
      tenant: row.tenant,
      ...(row.name === null ? {} : { name: row.name }),
    },
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    idleExpiresAt: row.idle_expires_at,
    expiresAt: row.expires_at,
  };
}
