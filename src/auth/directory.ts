/**
 * Resolves an API key to its principal (tenant → team → agent). Keys declared in the config
 * file live in memory; keys created at runtime are looked up in the KeyStore once and cached for
 * `keys.cache_ttl`, so the hot path does not touch the database. A revocation takes effect
 * within that time, or at once where it is announced on the signal bus (`omega keys revoke`
 * with `redis.url` set; config/runtime.ts forwards the announcement to `forget`). One directory
 * belongs to one configuration snapshot (config/snapshot.ts).
 */
import type { AgentConfig, TeamConfig, TenantConfig } from '../config/schema.js';
import type { GatewayConfig } from '../config/load.js';
import type { KeyStore } from '../store/types.js';
import type { StoreAvailability } from '../store/availability.js';
import { GatewayError } from '../errors.js';
import { hashApiKey } from './api-keys.js';

export interface Principal {
  readonly tenantId: string;
  readonly teamId: string;
  readonly agentId: string;
  readonly keyId: string;
  readonly tenant: TenantConfig;
  readonly team: TeamConfig;
  readonly agent: AgentConfig;
}

interface CacheEntry {
  principal: Principal | null;
  expiresAt: number;
}

/** Unknown keys are cached too (briefly), so a flood of bad keys cannot hammer the store. */
const NEGATIVE_TTL_MS = 1000;
const MAX_CACHE_ENTRIES = 50_000;

export class KeyDirectory {
  private readonly declared = new Map<string, Principal>();
  private readonly cache = new Map<string, CacheEntry>();
  private readonly agents = new Map<string, { teamId: string; team: TeamConfig; agent: AgentConfig }>();

  constructor(
    private readonly config: GatewayConfig,
    private readonly store: KeyStore,
    private readonly now: () => number = Date.now,
    /** The store's degraded mode (storage.on_unavailable); without it an unreachable store's error propagates. */
    private readonly outage?: Pick<StoreAvailability, 'decide'>,
  ) {
    for (const [tenantId, tenant] of Object.entries(config.tenants)) {
      for (const [teamId, team] of Object.entries(tenant.teams)) {
        for (const [agentId, agent] of Object.entries(team.agents)) {
          this.agents.set(`${tenantId}/${agentId}`, { teamId, team, agent });
          for (const key of agent.keys) {
            const hash = key.hash ?? hashApiKey(key.key!);
            this.declared.set(hash, { tenantId, teamId, agentId, keyId: key.id, tenant, team, agent });
          }
        }
      }
    }
  }

  /** Returns the principal for a presented key, or undefined for an unknown or revoked key. */
  async resolve(presentedKey: string): Promise<Principal | undefined> {
    const hash = hashApiKey(presentedKey);
    const declared = this.declared.get(hash);
    if (declared) return declared;
    const now = this.now();
    const cached = this.cache.get(hash);
    if (cached && cached.expiresAt > now) return cached.principal ?? undefined;

    let record;
    try {
      record = await this.store.findByHash(hash);
    } catch (err) {
      if (!(err instanceof GatewayError && err.code === 'store_unavailable') || !this.outage) throw err;
      const known = cached?.principal;
      if (this.outage.decide('keys', Boolean(known))) return known!;
      throw err;
    }
    const expiry = record?.expiresAt?.getTime() ?? Infinity;
    const principal = record && !record.revokedAt && expiry > now ? this.principalFor(record.tenantId, record.agentId, record.id) : undefined;
    if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.clear();
    this.cache.set(hash, {
      principal: principal ?? null,
      // A key about to expire is not served from the cache past its expiry.
      expiresAt: principal ? Math.min(now + this.config.keys.cache_ttl, expiry) : now + NEGATIVE_TTL_MS,
    });
    return principal;
  }

  /** Drops a key from the cache, so its next use reads the store (and finds it revoked). */
  forget(keyId: string): void {
    for (const [hash, entry] of this.cache) if (entry.principal?.keyId === keyId) this.cache.delete(hash);
  }

  /** The principal a runtime key of this tenant/agent would have; undefined if the config lacks them. */
  principalFor(tenantId: string, agentId: string, keyId: string): Principal | undefined {
    const tenant = this.config.tenants[tenantId];
    const found = this.agents.get(`${tenantId}/${agentId}`);
    if (!tenant || !found) return undefined;
    return { tenantId, teamId: found.teamId, agentId, keyId, tenant, team: found.team, agent: found.agent };
  }
}
