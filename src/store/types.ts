/**
 * Storage interfaces, one per concern. The embedded default implements them on SQLite
 * (store/sqlite/), the distributed back end on PostgreSQL (store/postgres/); both pass the same
 * conformance suites (test/conformance/). `openStores` (store/open-stores.ts) opens them all from
 * `storage.url`.
 */
import type { RetentionEvent, StoredRow } from '../audit/chain.js';
import type { AuditRecord } from '../audit/record.js';
import type { TrailRecord } from '../audit/admin-event.js';
import type { ReviewStore } from '../review/types.js';
import type { SpendGroup, SpendGroupRow } from './charged-rows.js';
import type { OverviewQuery, OverviewRow } from './audit-overview.js';

export type { SpendGroup, SpendGroupRow } from './charged-rows.js';
export type { OverviewQuery, OverviewRow } from './audit-overview.js';

export type { ReviewFilter, ReviewItem, ReviewStatus, ReviewStore } from '../review/types.js';

export interface ApiKeyRecord {
  id: string;
  hash: string;
  tenantId: string;
  agentId: string;
  /** Identifies the key to humans without revealing it, e.g. `omk_AbCd…wxyz`. */
  hint: string;
  createdAt: Date;
  revokedAt: Date | null;
  /** After this the key no longer authenticates; null: it does not expire. */
  expiresAt: Date | null;
}

/** Keys created at runtime (`omega keys create`, the admin API); keys declared in the config file never touch it. */
export interface KeyStore {
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  create(key: ApiKeyRecord): Promise<void>;
  list(filter?: { tenantId?: string }): Promise<ApiKeyRecord[]>;
  /** Returns false when no active key has this id. */
  revoke(id: string, at?: Date): Promise<boolean>;
}

/** Append-only destination of audit records (and admin events), written in batches. */
export interface AuditSink {
  append(records: readonly TrailRecord[]): Promise<void>;
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
export type SignalChannel = 'review.created' | 'review.decided' | 'policy.replaced' | 'key.revoked' | 'config.changed';
 * is best effort (Redis pub/sub drops messages while a subscriber is disconnected), so every
 * receiver also has a slower safety net; handlers must be idempotent, since the sender receives
 * its own messages too.
 */
export type SignalChannel = 'review.created' | 'review.decided' | 'policy.replaced' | 'key.revoked' | 'session.ended' | 'config.changed';

export interface SignalBus {
  publish(channel: SignalChannel, message: string): Promise<void>;
  /** Resolves once the subscription is active. */
  subscribe(channel: SignalChannel, handler: (message: string) => void): Promise<void>;
  close(): Promise<void>;
}

/** Retention on the audit trail: deletions that are themselves chained (see audit/chain.ts). */
export interface AuditRetention {
  /**
   * Deletes a tenant's records older than `before` and appends a retention event to its chain
   * that names the first kept record, so the shortened chain still verifies.
   */
  prune(tenantId: string | null, before: number, actor: string): Promise<RetentionEvent>;
}

export interface AuditFilter {
  tenantId?: string;
  teamId?: string;
  agentId?: string;
  model?: string;
  outcome?: string;
  riskMin?: number;
  riskMax?: number;
  since?: number;
  until?: number;
  decisionId?: string;
  /** Include strict mode's `decision` and `cost` rows, admin events and retention events (default: finished requests only). */
  allKinds?: boolean;
  /** Only these kinds (`request`, `decision`, `cost`, `admin`, `retention`); overrides allKinds. */
  kinds?: string[];
  /** Free text: a substring of the decision id, endpoint, model, team, agent, key or error code. */
  text?: string;
  limit?: number;
  /** From a previous page's `next_cursor`. */
  cursor?: string;
}

export interface AuditPage {
  data: (AuditRecord & { seq: number; record_hash: string; chain_seq: number })[];
  next_cursor: string | null;
}

export type AuditExportFilter = Pick<AuditFilter, 'tenantId' | 'since' | 'until' | 'allKinds' | 'kinds'>;

/** Spend of one 15-minute bucket (`bucket` = its start, epoch ms) per tenant/team/agent/model. */
export interface SpendBucket {
  bucket: number;
  tenant_id: string;
  team_id: string | null;
  agent_id: string | null;
  model_resolved: string | null;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

/** A budget scope's audit rows: one tenant, narrowed by one column. */
export interface CostScope {
  tenantId: string;
  column: 'tenant_id' | 'team_id' | 'agent_id' | 'key_id';
  value: string;
  since: number;
}

/** Reading the audit trail: search, export, verification inputs and spend aggregates. */
export interface AuditQuery {
  /** Newest first, with an opaque cursor; throws `invalid cursor` on a malformed one. */
  search(filter: AuditFilter): Promise<AuditPage>;
  /** Up to `limit` matching rows with `seq > after`, oldest first (export pages). */
  exportPage(filter: AuditExportFilter, after: number, limit: number): Promise<{ seq: number; record: AuditRecord }[]>;
  /** Every chain name, sorted. */
  chains(): Promise<string[]>;
  /** One chain's rows in chain order (verification input). */
  chainRows(chain: string): Promise<StoredRow[]>;
  /**
   * Charged rows (store/charged-rows.ts: one per request — its final row, else its cost row, else its
   * decision row at its reserved amount) with a tenant since `since`, grouped by 15-minute bucket.
   */
  spendBuckets(q: { tenantId?: string; since: number; until?: number }): Promise<SpendBucket[]>;
  /** Charged rows (as spendBuckets) summed per tenant, team, agent or model, largest cost first. */
  spendBy(q: { group: SpendGroup; tenantId?: string; since: number; until?: number }): Promise<SpendGroupRow[]>;
  /** Finished requests per time bucket: outcomes, errors, cost and latency percentiles (admin overview). */
  overview(q: OverviewQuery): Promise<OverviewRow[]>;
  /** What a scope's requests charged since `since`, counted as spendBuckets does (budget seeding at start). */
  sumCost(scope: CostScope): Promise<number>;
  /**
   * Strict mode's `decision` and `cost` rows of requests without a final record, oldest first
   * (recovery at start). With `instance`, only rows that gateway instance wrote: requests other
   * replicas are forwarding right now are theirs to finish, not this one's to recover.
   */
  unfinished(instance?: string): Promise<{ kind: 'decision' | 'cost'; record: AuditRecord }[]>;
}

export interface PolicyVersion {
  name: string;
  version: string;
  /** The policy as submitted. */
  config: unknown;
  actor: string;
  createdAt: number;
}

/** Policies replaced through the admin API; every version kept, the newest per name wins at start. */
export interface PolicyStore {
  put(version: PolicyVersion): Promise<void>;
  /** The newest version of every stored policy name. */
  latest(): Promise<PolicyVersion[]>;
  /** Every version of one policy, newest first. */
  list(name: string): Promise<PolicyVersion[]>;
}

/** Who a console session belongs to (the admin principal of src/admin/principal.ts, as stored). */
export interface SessionPrincipal {
  id: string;
  kind: 'token' | 'user';
  role: 'admin' | 'reviewer' | 'auditor';
  /** null: every tenant. */
  tenant: string | null;
  name?: string;
}

/** A signed-in console session. Times are ms since the epoch. */
export interface AdminSession {
  /** sha256 (hex) of the session id; the id itself lives only in the browser's cookie. */
  idHash: string;
  principal: SessionPrincipal;
  createdAt: number;
  /** The last activity recorded (touch); at most a few tens of seconds behind the real last request. */
  lastSeenAt: number;
  /** The session ends here unless touched first (idle timeout); never after `expiresAt`. */
  idleExpiresAt: number;
  /** The absolute end, whatever the activity. */
  expiresAt: number;
}

/** Server-side console sessions, shared by replicas, so sign-out and expiry hold everywhere. */
export interface SessionStore {
  /** Saves a new session; throws when one with the same `idHash` exists. */
  create(session: AdminSession): Promise<void>;
  /** The session, unless absent or expired at `now` (idle or absolute). */
  get(idHash: string, now: number): Promise<AdminSession | undefined>;
  /**
   * Records activity: `lastSeenAt = now`, `idleExpiresAt = min(idleExpiresAt, expiresAt)`.
   * Returns false (changing nothing) when the session is absent or already expired at `now`.
   */
  touch(idHash: string, now: number, idleExpiresAt: number): Promise<boolean>;
  /** Ends a session (sign-out); false when there was none. */
  delete(idHash: string): Promise<boolean>;
  /** Removes every session expired at `now` (idle or absolute); returns how many. */
  purgeExpired(now: number): Promise<number>;
}

/**
 * What the admin API manages beside the deployment file (docs/configuration.md, "Precedence").
 * Ids: a tenant or model by its name; a team, agent or alias as `<tenant>/<name>`.
 */
export type EntityKind = 'tenant' | 'team' | 'agent' | 'model' | 'alias';

export interface StoredEntity {
  kind: EntityKind;
  id: string;
  /** The tenant it belongs to (null for models). */
  tenantId: string | null;
  /** The entity's fields as the admin API validated them (JSON). */
  body: Record<string, unknown>;
  /** Who last wrote it (the admin principal's id). */
  actor: string;
  createdAt: number;
  updatedAt: number;
}

/** A provider credential as stored: sealed (AES-256-GCM, config/credentials.ts); the store never sees the secret. */
export interface SealedCredential {
  provider: string;
  sealed: string;
  actor: string;
  updatedAt: number;
}

/**
 * Runtime entities and provider credentials. Every write increases one store-wide revision, so
 * a replica knows with one cheap read whether it is behind (the resync safety net).
 */
export interface ConfigStore {
  /** Everything, with the revision it reflects, in one consistent read. */
  load(): Promise<{ revision: number; entities: StoredEntity[]; credentials: SealedCredential[] }>;
  revision(): Promise<number>;
  get(kind: EntityKind, id: string): Promise<StoredEntity | undefined>;
  /** Creates or replaces (keeping `createdAt`); returns the new revision. */
  put(entity: StoredEntity): Promise<number>;
  /** Returns the new revision, or null when there was no such entity. */
  delete(kind: EntityKind, id: string): Promise<number | null>;
  putCredential(credential: SealedCredential): Promise<number>;
  /** Returns the new revision, or null when none was stored. */
  deleteCredential(provider: string): Promise<number | null>;
}

/** Every durable store, opened together from `storage.url`. */
export interface Stores {
  kind: 'sqlite' | 'postgres';
  keys: KeyStore;
  audit: AuditSink & AuditRetention;
  auditQuery: AuditQuery;
  policies: PolicyStore;
  reviews: ReviewStore;
  responses: ResponseStore;
  /** Console sign-in sessions. */
  sessions: SessionStore;
  config: ConfigStore;
  /** Throws when the store is unreachable (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
