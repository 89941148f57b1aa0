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

/**
 * One response of the OpenAI Responses API as the gateway keeps it, for `previous_response_id`,
 * `GET` and `DELETE /v1/responses/{id}`. Items are kept as JSON values (OpenAI's item shapes).
 */
export interface StoredResponse {
  /** The response id (`resp_…`): the gateway's own, or OpenAI's when it was served natively. */
  id: string;
  tenantId: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** After this (ms since the epoch) the response is gone, as if deleted. */
  expiresAt: number;
  /** The model the client named. */
  model: string;
  /** The configured provider that produced it. */
  provider: string;
  /** True when the provider served the Responses API itself (it then knows the id too). */
  native: boolean;
  /** The whole conversation input: the stored conversation it continued, then this request's input. */
  inputItems: unknown[];
  outputItems: unknown[];
  /** The Response object as the client received it. */
  response: unknown;
}

/** Stored Responses, scoped by tenant: another tenant's id reads as absent. */
export interface ResponseStore {
  /** Saves a response (replacing one of the same id and tenant). */
  put(tenantId: string, stored: StoredResponse): Promise<void>;
  /** The response, unless it is absent, another tenant's or expired. */
  get(tenantId: string, id: string): Promise<StoredResponse | undefined>;
  /** Returns false when the tenant has no such response. */
  delete(tenantId: string, id: string): Promise<boolean>;
  /** Removes every response whose `expiresAt` is at or before `now` (ms); returns how many. */
  deleteExpired(now: number): Promise<number>;
}

/**
 * What replicas tell each other at once (review decided, policy replaced, key revoked). Delivery
 * is best effort (Redis pub/sub drops messages while a subscriber is disconnected), so every
 * receiver also has a slower safety net; handlers must be idempotent, since the sender receives
 * its own messages too.
 */
export type SignalChannel = 'review.decided' | 'policy.replaced' | 'key.revoked';

export interface SignalBus {
  publish(channel: SignalChannel, message: string): Promise<void>;
  /** Resolves once the subscription is active. */
  subscribe(channel: SignalChannel, handler: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}
