/** Verifies the hash chains of the audit trail (all tenants, or one). */
import type { AuditQuery } from '../store/types.js';
import { chainOf, verifyChain, type ChainVerdict } from './chain.js';

export async function verifyAudit(store: AuditQuery, tenantId?: string): Promise<ChainVerdict[]> {
  const chains = tenantId !== undefined ? [chainOf(tenantId)] : await store.chains();
  const verdicts: ChainVerdict[] = [];
  for (const chain of chains) {
    const rows = await store.chainRows(chain);
    verdicts.push(verifyChain(chain, rows));
  }
  return verdicts;
}
