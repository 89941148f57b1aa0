/** Verifies the hash chains of the audit trail (all tenants, or one). */
import type { Kysely } from 'kysely';
import type { SqliteTables } from '../store/sqlite/database.js';
import { chainOf, verifyChain, type ChainVerdict, type StoredRow } from './chain.js';

export async function verifyAudit(db: Kysely<SqliteTables>, tenantId?: string): Promise<ChainVerdict[]> {
  const chains = tenantId !== undefined ? [chainOf(tenantId)] : (await db.selectFrom('audit_records').select('chain').distinct().orderBy('chain').execute()).map((r) => r.chain);
  const verdicts: ChainVerdict[] = [];
  for (const chain of chains) {
    const rows = (await db.selectFrom('audit_records').selectAll().where('chain', '=', chain).orderBy('chain_seq').execute()) as StoredRow[];
    verdicts.push(verifyChain(chain, rows));
  }
  return verdicts;
}
