/**
 * What each request charged its budgets, read from the audit trail — one row per request, so
 * that a crash can neither forget spend nor count it twice:
 * - its final `request` record (cost_usd);
 * - else strict mode's `cost` record, committed before the answer ended (cost_usd);
 * - else its `decision` record, committed before forwarding, at the worst case the request
 *   held (budget_reserved_usd) — the request was forwarded and may have been billed.
 * Budget seeding and spend reports both read this, so they agree after a restart.
 */
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { SqliteTables } from '../store/sqlite/database.js';

type Charged = SelectQueryBuilder<SqliteTables & { a: SqliteTables['audit_records'] }, 'a', object>;

export function chargedRows(db: Kysely<SqliteTables>): Charged {
  return db.selectFrom('audit_records as a').where(({ eb, or, and, not, exists, selectFrom }) => {
    const later = (kinds: string[]) =>
      not(exists(selectFrom('audit_records as b').select('b.seq').whereRef('b.decision_id', '=', 'a.decision_id').where('b.kind', 'in', kinds)));
    return or([eb('a.kind', '=', 'request'), and([eb('a.kind', '=', 'cost'), later(['request'])]), and([eb('a.kind', '=', 'decision'), later(['request', 'cost'])])]);
  }) as Charged;
}

/** A charged row's amount in USD. */
export const chargedUsd = sql<number>`case a.kind when 'decision' then a.budget_reserved_usd else a.cost_usd end`;
