/**
 * Entities managed through the admin API, merged into the deployment file's configuration.
 *
 * Precedence (docs/configuration.md): the file wins. An entity the file declares is
 * `managed_by: 'file'` and read-only in the API; the API adds entities the file does not
 * declare — tenants, teams and agents (also under file-declared tenants and teams), tenant
 * aliases, models — and credentials of file-declared providers that have no `api_key` in the file.
 * A stored entity that the file later declares too is shadowed by the file's.
 */
import { z } from 'zod';
import type { ConfigStore, EntityKind, SealedCredential, StoredEntity } from '../store/types.js';
import type { CredentialSealer } from './credentials.js';
import { ConfigError, crossCheck, deepFreeze, formatPath, type GatewayConfig } from './load.js';
import { AgentSchema, ModelSchema, TeamSchema, TenantSchema } from './schema.js';
import type { EntityWrites } from './runtime.js';

const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore (max 64)');

/** The fields of each kind as the admin API takes them (the file's schemas, without nested children). */
export const EntitySchemas = {
  tenant: TenantSchema.omit({ teams: true, aliases: true }),
  team: TeamSchema.omit({ agents: true }),
  agent: AgentSchema.omit({ keys: true }).extend({ team: Id.describe('The team the agent belongs to.') }),
  model: ModelSchema,
  alias: z.object({ model: z.string().min(1).describe('The public model the alias stands for.') }).strict(),
} as const;

export type ManagedBy = 'file' | 'api';

/** Where one entity comes from in `file`, or undefined when the file does not declare it. */
export function declaredByFile(file: GatewayConfig, kind: EntityKind, id: string): boolean {
  const [tenantId, name] = id.split('/') as [string, string | undefined];
  const tenant = file.tenants[tenantId];
  switch (kind) {
    case 'tenant':
      return tenant !== undefined;
    case 'team':
      return tenant?.teams[name!] !== undefined;
    case 'agent':
      return tenant !== undefined && Object.values(tenant.teams).some((t) => t.agents[name!] !== undefined);
    case 'alias':
      return tenant?.aliases[name!] !== undefined;
    case 'model':
      return file.models[id] !== undefined;
  }
}

/** Merges stored entities into the file's configuration (see the module comment). */
export class StoredEntities implements EntityWrites {
  constructor(
    readonly store: ConfigStore,
    private readonly options: {
      /** Opens sealed credentials; without it (no OMEGA_MASTER_KEY) stored credentials are ignored, with a log line. */
      sealer?: CredentialSealer;
      /** Policy names usable beyond the file's (published through the admin API). */
      policyNames: () => Iterable<string>;
      log: { error(obj: object, msg: string): void };
    },
  ) {}

  async merge(file: GatewayConfig): Promise<{ config: GatewayConfig; revision: number }> {
    const loaded = await this.store.load();
    return { config: this.mergeLoaded(file, loaded.entities, loaded.credentials), revision: loaded.revision };
  }

  /**
   * The effective configuration for `entities` and `credentials` over `file`. Throws
   * ConfigError when the result does not check (e.g. an agent's policy that no longer exists).
   */
  mergeLoaded(file: GatewayConfig, entities: readonly StoredEntity[], credentials: readonly SealedCredential[]): GatewayConfig {
    const out = structuredClone({ ...file }) as { -readonly [K in keyof GatewayConfig]: GatewayConfig[K] };
    const missing: Record<string, string> = { ...file.missingCredentials };
    const problems: string[] = [];
    const parse = <K extends EntityKind>(e: StoredEntity & { kind: K }) => {
      const r = EntitySchemas[e.kind].safeParse(e.body);
      if (!r.success) problems.push(`stored ${e.kind} "${e.id}": ${r.error.issues[0]!.message}`);
      return r.success ? (r.data as z.output<(typeof EntitySchemas)[K]>) : undefined;
    };
    // Parents before children, so an agent finds its (stored) team.
    const order: EntityKind[] = ['model', 'tenant', 'team', 'agent', 'alias'];
    for (const kind of order) {
      for (const e of entities) {
        if (e.kind !== kind || declaredByFile(file, e.kind, e.id)) continue;
        const [tenantId, name] = e.id.split('/') as [string, string];
        const tenant = out.tenants[tenantId];
        switch (e.kind) {
          case 'model': {
            const m = parse(e as StoredEntity & { kind: 'model' });
            if (m) out.models[e.id] = m;
            break;
          }
          case 'tenant': {
            const t = parse(e as StoredEntity & { kind: 'tenant' });
            if (t) out.tenants[e.id] = { ...t, teams: {}, aliases: {} };
            break;
          }
          case 'team': {
            const t = parse(e as StoredEntity & { kind: 'team' });
            if (t && tenant) tenant.teams[name] = { ...t, agents: {} };
            break;
          }
          case 'agent': {
            const a = parse(e as StoredEntity & { kind: 'agent' });
            const team = a && tenant?.teams[a.team];
            if (a && team && !Object.values(tenant.teams).some((t) => t.agents[name] !== undefined)) {
              const { team: _team, ...agent } = a;
              team.agents[name] = { ...agent, keys: [] };
            }
            break;
          }
          case 'alias': {
            const a = parse(e as StoredEntity & { kind: 'alias' });
            if (a && tenant) tenant.aliases[name] = a.model;
            break;
          }
        }
      }
    }
    for (const c of credentials) {
      const provider = out.providers[c.provider];
      // The file's own key wins; a credential of a provider the file no longer declares waits unused.
      if (!provider || file.providers[c.provider]?.api_key !== undefined) continue;
      if (!this.options.sealer) {
        this.options.log.error({ provider: c.provider }, 'a provider credential is stored but OMEGA_MASTER_KEY is not set: the provider stays without it');
        continue;
      }
      try {
        provider.api_key = this.options.sealer.open(c.provider, c.sealed);
        delete missing[c.provider];
      } catch (err) {
        this.options.log.error({ provider: c.provider, problem: (err as Error).message }, 'a stored provider credential does not open: the provider stays without it');
      }
    }
    if (problems.length > 0) throw new ConfigError('the entity store', problems);
    const checked = crossCheck(out, new Set(this.options.policyNames()));
    if (checked.length > 0) throw new ConfigError('the entity store', checked.map((p) => `${formatPath(p.path)}: ${p.message}`));
    return deepFreeze({ ...out, missingCredentials: missing });
  }
}
