/**
 * Storage interfaces, one per concern. The embedded default implements them on SQLite; the
 * distributed back end (PostgreSQL) implements the same interfaces.
 */
import type { AuditRecord } from '../audit/record.js';

export interface ApiKeyRecord {
  id: string;
  hash: string;
  tenantId: string;
  agentId: string;
  /** Identifies the key to humans without revealing it, e.g. `omk_AbCd…wxyz`. */
  hint: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** Keys created at runtime (`omega keys create`); keys declared in the config file never touch it. */
export interface KeyStore {
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  create(key: ApiKeyRecord): Promise<void>;
  list(filter?: { tenantId?: string }): Promise<ApiKeyRecord[]>;
  /** Returns false when no active key has this id. */
  revoke(id: string, at?: Date): Promise<boolean>;
}

/** Append-only destination of audit records, written in batches. */
export interface AuditSink {
  append(records: readonly AuditRecord[]): Promise<void>;
}
