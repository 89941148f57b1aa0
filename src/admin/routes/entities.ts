/**
 * Runtime entities under /admin/v1: tenants, their teams and agents, tenant budgets and rate
 * limits, models and tenant aliases. Reads show the configuration in force (the file merged with
 * what the API added), each object with `managed_by`; writes go to the entity store through
 * RuntimeConfig.write (checked against the whole configuration first, live on this replica when
 * the call returns, announced to every other), refuse file-declared objects (409
 * managed_by_file) and are recorded as admin events.
 */
import { z } from 'zod';
import type { GatewayDeps } from '../../app.js';
import { declaredByFile, EntitySchemas, type ManagedBy } from '../../config/entities.js';
import type { GatewayConfig } from '../../config/load.js';
import { BudgetSchema, RateLimitSchema, type TenantConfig } from '../../config/schema.js';
import { GatewayError } from '../../errors.js';
import type { EntityKind, StoredEntity } from '../../store/types.js';
import type { AdminModule } from '../api.js';
import { recordAdminEvent } from '../events.js';
import { assertVisible, listTenant, notFound, type AdminPrincipal } from '../principal.js';
import { ADMINS, defineRoute, listOf } from '../route.js';

export const EntityId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore (max 64)');
const ManagedBySchema = z.enum(['file', 'api']).describe('`file`: declared in the deployment file, read-only here; `api`: created through this API.');

const TenantView = z.object({
  object: z.literal('tenant'),
  id: z.string(),
  name: z.string().nullable(),
  models: z.array(z.string()),
  policy: z.string().nullable(),
  budget: BudgetSchema.nullable(),
  rate_limits: RateLimitSchema.nullable(),
  aliases: z.record(z.string(), z.string()),
  teams: z.array(z.string()),
  managed_by: ManagedBySchema,
});
const TeamView = z.object({ object: z.literal('team'), id: z.string(), tenant: z.string(), policy: z.string().nullable(), budget: BudgetSchema.nullable(), rate_limits: RateLimitSchema.nullable(), agents: z.array(z.string()), managed_by: ManagedBySchema });
const AgentView = z.object({ object: z.literal('agent'), id: z.string(), tenant: z.string(), team: z.string(), policy: z.string().nullable(), budget: BudgetSchema.nullable(), rate_limits: RateLimitSchema.nullable(), managed_by: ManagedBySchema });
const ModelView = z.object({ object: z.literal('model'), id: z.string(), config: z.record(z.string(), z.unknown()).describe('The model as configured (providers, deployments, price, fallbacks).'), available: z.boolean().describe('Whether a deployment can serve it now (e.g. its provider has a credential).'), managed_by: ManagedBySchema });
const AliasView = z.object({ object: z.literal('alias'), tenant: z.string(), alias: z.string(), model: z.string(), managed_by: ManagedBySchema });

const TenantParams = z.object({ tenant: EntityId });
const TeamParams = TenantParams.extend({ team: EntityId });
const AgentParams = TeamParams.extend({ agent: EntityId });

const effective = (deps: GatewayDeps): GatewayConfig => deps.snapshots.current.config;
const managedBy = (deps: GatewayDeps, kind: EntityKind, id: string): ManagedBy => (declaredByFile(deps.runtime.fileConfig, kind, id) ? 'file' : 'api');

function tenantView(deps: GatewayDeps, id: string, t: TenantConfig): z.input<typeof TenantView> {
  return { object: 'tenant', id, name: t.name ?? null, models: t.models, policy: t.policy ?? null, budget: t.budget ?? null, rate_limits: t.rate_limits ?? null, aliases: t.aliases, teams: Object.keys(t.teams), managed_by: managedBy(deps, 'tenant', id) };
}

/** The tenant in force, or 404 (also for another tenant's, for a scoped principal). */
function tenantOf(deps: GatewayDeps, principal: AdminPrincipal, id: string): TenantConfig {
  assertVisible(principal, id, `tenant "${id}"`);
  const t = effective(deps).tenants[id];
  if (!t) throw notFound(`tenant "${id}"`);
  return t;
}

/** Gateway-wide objects (models) are changed only by principals of every tenant. */
export function assertUnscoped(principal: AdminPrincipal, what: string): void {
  if (principal.tenant !== null) throw new GatewayError('admin_forbidden', `A tenant-scoped principal may not change ${what}: it applies to every tenant.`);
}

function refuseFileManaged(deps: GatewayDeps, kind: EntityKind, id: string): void {
  if (declaredByFile(deps.runtime.fileConfig, kind, id)) {
    throw new GatewayError('managed_by_file', `The ${kind} "${id}" is declared in the deployment file (${deps.runtime.fileConfig.source}); change it there (GitOps), then reload.`);
  }
}

/**
 * Creates, replaces or deletes one stored entity (body null = delete), after the checks every
 * write shares; records the admin event. Returns the stored entity before the write.
 */
async function writeEntity(
  deps: GatewayDeps,
  principal: AdminPrincipal,
  e: { kind: EntityKind; id: string; tenantId: string | null; body: Record<string, unknown> | null },
  mode: 'create' | 'replace' | 'upsert' | 'delete',
): Promise<StoredEntity | undefined> {
  refuseFileManaged(deps, e.kind, e.id);
  const before = await deps.stores.config.get(e.kind, e.id);
  if (mode === 'create' && before) throw new GatewayError('conflict', `A ${e.kind} "${e.id}" exists already.`);
  if ((mode === 'replace' || mode === 'delete') && !before) throw notFound(`${e.kind} "${e.id}"`);
  const now = Date.now();
  const same = (x: StoredEntity) => x.kind === e.kind && x.id === e.id;
  if (e.body === null) {
    await deps.runtime.write(
      (s) => void (s.entities = s.entities.filter((x) => !same(x))),
      (store) => store.delete(e.kind, e.id),
    );
  } else {
    const entity: StoredEntity = { kind: e.kind, id: e.id, tenantId: e.tenantId, body: e.body, actor: principal.id, createdAt: before?.createdAt ?? now, updatedAt: now };
    await deps.runtime.write(
      (s) => void (s.entities = [...s.entities.filter((x) => !same(x)), entity]),
      (store) => store.put(entity),
    );
  }
  const verb = e.body === null ? 'delete' : before ? 'update' : 'create';
  await recordAdminEvent(deps, principal, { action: `${e.kind}.${verb}`, target: { type: e.kind, id: e.id }, tenant: e.tenantId, before: before?.body ?? null, after: e.body });
  return before;
}

/** Stored children that would be orphaned: a delete is refused while they exist. */
async function assertNoChildren(deps: GatewayDeps, what: string, children: (e: StoredEntity) => boolean): Promise<void> {
  const { entities } = await deps.stores.config.load();
  const left = entities.filter(children).map((e) => `${e.kind} ${e.id}`);
  if (left.length > 0) throw new GatewayError('conflict', `The ${what} still has ${left.slice(0, 5).join(', ')}${left.length > 5 ? ', …' : ''}: delete them first.`);
}

const TenantBody = EntitySchemas.tenant;
const TeamBody = EntitySchemas.team;
const AgentBody = EntitySchemas.agent.omit({ team: true });

export const entityRoutes: AdminModule = (router, deps) => {
  const tenantRoutes = [
    defineRoute({
      method: 'GET',
      path: '/tenants',
      tag: 'tenants',
      summary: 'List tenants.',
      roles: ADMINS,
      response: listOf(TenantView),
      handler: async ({ principal }) => {
        const only = listTenant(principal, undefined);
        const data = Object.entries(effective(deps).tenants)
          .filter(([id]) => only === undefined || id === only)
          .map(([id, t]) => tenantView(deps, id, t));
        return { object: 'list' as const, data, next_cursor: null };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/tenants',
      tag: 'tenants',
      summary: 'Create a tenant.',
      description: 'Creates a tenant managed by the API (`managed_by: api`). Teams, agents and aliases are created under it with their own routes.',
      roles: ADMINS,
      body: TenantBody.extend({ id: EntityId.describe('The tenant id (as in audit records and keys).') }),
      response: TenantView,
      status: 201,
      handler: async ({ principal, body }) => {
        assertUnscoped(principal, 'the list of tenants');
        const { id, ...fields } = body;
        await writeEntity(deps, principal, { kind: 'tenant', id, tenantId: id, body: fields }, 'create');
        return tenantView(deps, id, effective(deps).tenants[id]!);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/tenants/:tenant',
      tag: 'tenants',
      summary: 'Get a tenant.',
      roles: ADMINS,
      params: TenantParams,
      response: TenantView,
      handler: async ({ principal, params }) => tenantView(deps, params.tenant, tenantOf(deps, principal, params.tenant)),
    }),
    defineRoute({
      method: 'PUT',
      path: '/tenants/:tenant',
      tag: 'tenants',
      summary: 'Replace a tenant.',
      description: 'Replaces the fields of an API-managed tenant (its teams, agents and aliases stay). 409 `managed_by_file` for a tenant of the deployment file.',
      roles: ADMINS,
      params: TenantParams,
      body: TenantBody,
      response: TenantView,
      handler: async ({ principal, params, body }) => {
        tenantOf(deps, principal, params.tenant);
        await writeEntity(deps, principal, { kind: 'tenant', id: params.tenant, tenantId: params.tenant, body }, 'replace');
        return tenantView(deps, params.tenant, effective(deps).tenants[params.tenant]!);
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/tenants/:tenant',
      tag: 'tenants',
      summary: 'Delete a tenant.',
      description: 'Only an API-managed tenant without stored teams or aliases (409 `conflict` otherwise). Its runtime keys stop authenticating with it.',
      roles: ADMINS,
      params: TenantParams,
      status: 204,
      handler: async ({ principal, params }) => {
        assertUnscoped(principal, 'the list of tenants');
        tenantOf(deps, principal, params.tenant);
        refuseFileManaged(deps, 'tenant', params.tenant);
        await assertNoChildren(deps, `tenant "${params.tenant}"`, (e) => e.kind !== 'tenant' && e.tenantId === params.tenant);
        await writeEntity(deps, principal, { kind: 'tenant', id: params.tenant, tenantId: params.tenant, body: null }, 'delete');
      },
    }),
  ];

  // A tenant's budget and rate limits: fields of the tenant, with routes of their own for the console.
  const scopeField = (field: 'budget' | 'rate_limits', path: string, schema: typeof BudgetSchema | typeof RateLimitSchema, noun: string) => [
    defineRoute({
      method: 'GET',
      path: `/tenants/:tenant/${path}`,
      tag: 'tenants',
      summary: `Get a tenant's ${noun}.`,
      roles: ADMINS,
      params: TenantParams,
      response: z.object({ tenant: z.string(), [field]: schema.nullable(), managed_by: ManagedBySchema }),
      handler: async ({ principal, params }) => {
        const t = tenantOf(deps, principal, params.tenant);
        return { tenant: params.tenant, [field]: t[field] ?? null, managed_by: managedBy(deps, 'tenant', params.tenant) };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: `/tenants/:tenant/${path}`,
      tag: 'tenants',
      summary: `Set a tenant's ${noun}.`,
      description: `Applies to requests authenticated from now on, on every replica. 409 \`managed_by_file\` for a tenant of the deployment file.`,
      roles: ADMINS,
      params: TenantParams,
      body: schema,
      response: z.object({ tenant: z.string(), [field]: schema.nullable(), managed_by: ManagedBySchema }),
      handler: async ({ principal, params, body }) => {
        tenantOf(deps, principal, params.tenant);
        refuseFileManaged(deps, 'tenant', params.tenant);
        const stored = await deps.stores.config.get('tenant', params.tenant);
        if (!stored) throw notFound(`tenant "${params.tenant}"`);
        await writeEntity(deps, principal, { kind: 'tenant', id: params.tenant, tenantId: params.tenant, body: { ...stored.body, [field]: body } }, 'replace');
        return { tenant: params.tenant, [field]: effective(deps).tenants[params.tenant]![field] ?? null, managed_by: 'api' as const };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: `/tenants/:tenant/${path}`,
      tag: 'tenants',
      summary: `Remove a tenant's ${noun}.`,
      roles: ADMINS,
      params: TenantParams,
      status: 204,
      handler: async ({ principal, params }) => {
        tenantOf(deps, principal, params.tenant);
        refuseFileManaged(deps, 'tenant', params.tenant);
        const stored = await deps.stores.config.get('tenant', params.tenant);
        if (!stored) throw notFound(`tenant "${params.tenant}"`);
        const { [field]: _removed, ...rest } = stored.body;
        await writeEntity(deps, principal, { kind: 'tenant', id: params.tenant, tenantId: params.tenant, body: rest }, 'replace');
      },
    }),
  ];

  const teamView = (tenant: string, id: string, t: TenantConfig['teams'][string]): z.input<typeof TeamView> => ({
    object: 'team',
    id,
    tenant,
    policy: t.policy ?? null,
    budget: t.budget ?? null,
    rate_limits: t.rate_limits ?? null,
    agents: Object.keys(t.agents),
    managed_by: managedBy(deps, 'team', `${tenant}/${id}`),
  });
  const teamOf = (principal: AdminPrincipal, tenant: string, team: string) => {
    const t = tenantOf(deps, principal, tenant).teams[team];
    if (!t) throw notFound(`team "${team}" in tenant "${tenant}"`);
    return t;
  };
  const teamRoutes = [
    defineRoute({
      method: 'GET',
      path: '/tenants/:tenant/teams',
      tag: 'tenants',
      summary: "List a tenant's teams.",
      roles: ADMINS,
      params: TenantParams,
      response: listOf(TeamView),
      handler: async ({ principal, params }) => ({
        object: 'list' as const,
        data: Object.entries(tenantOf(deps, principal, params.tenant).teams).map(([id, t]) => teamView(params.tenant, id, t)),
        next_cursor: null,
      }),
    }),
    defineRoute({
      method: 'POST',
      path: '/tenants/:tenant/teams',
      tag: 'tenants',
      summary: 'Create a team.',
      description: 'Also under a tenant of the deployment file: the team itself is then managed by the API.',
      roles: ADMINS,
      params: TenantParams,
      body: TeamBody.extend({ id: EntityId }),
      response: TeamView,
      status: 201,
      handler: async ({ principal, params, body }) => {
        const tenant = tenantOf(deps, principal, params.tenant);
        const { id, ...fields } = body;
        if (tenant.teams[id]) throw new GatewayError('conflict', `Tenant "${params.tenant}" has a team "${id}" already.`);
        await writeEntity(deps, principal, { kind: 'team', id: `${params.tenant}/${id}`, tenantId: params.tenant, body: fields }, 'create');
        return teamView(params.tenant, id, effective(deps).tenants[params.tenant]!.teams[id]!);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/tenants/:tenant/teams/:team',
      tag: 'tenants',
      summary: 'Get a team.',
      roles: ADMINS,
      params: TeamParams,
      response: TeamView,
      handler: async ({ principal, params }) => teamView(params.tenant, params.team, teamOf(principal, params.tenant, params.team)),
    }),
    defineRoute({
      method: 'PUT',
      path: '/tenants/:tenant/teams/:team',
      tag: 'tenants',
      summary: 'Replace a team.',
      roles: ADMINS,
      params: TeamParams,
      body: TeamBody,
      response: TeamView,
      handler: async ({ principal, params, body }) => {
        teamOf(principal, params.tenant, params.team);
        await writeEntity(deps, principal, { kind: 'team', id: `${params.tenant}/${params.team}`, tenantId: params.tenant, body }, 'replace');
        return teamView(params.tenant, params.team, effective(deps).tenants[params.tenant]!.teams[params.team]!);
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/tenants/:tenant/teams/:team',
      tag: 'tenants',
      summary: 'Delete a team.',
      description: 'Only an API-managed team without stored agents (409 `conflict` otherwise).',
      roles: ADMINS,
      params: TeamParams,
      status: 204,
      handler: async ({ principal, params }) => {
        teamOf(principal, params.tenant, params.team);
        refuseFileManaged(deps, 'team', `${params.tenant}/${params.team}`);
        await assertNoChildren(deps, `team "${params.team}"`, (e) => e.kind === 'agent' && e.tenantId === params.tenant && e.body.team === params.team);
        await writeEntity(deps, principal, { kind: 'team', id: `${params.tenant}/${params.team}`, tenantId: params.tenant, body: null }, 'delete');
      },
    }),
  ];

  const agentView = (tenant: string, team: string, id: string, a: TenantConfig['teams'][string]['agents'][string]): z.input<typeof AgentView> => ({
    object: 'agent',
    id,
    tenant,
    team,
    policy: a.policy ?? null,
    budget: a.budget ?? null,
    rate_limits: a.rate_limits ?? null,
    managed_by: managedBy(deps, 'agent', `${tenant}/${id}`),
  });
  const agentOf = (principal: AdminPrincipal, tenant: string, team: string, agent: string) => {
    const a = teamOf(principal, tenant, team).agents[agent];
    if (!a) throw notFound(`agent "${agent}" in team "${team}"`);
    return a;
  };
  const agentRoutes = [
    defineRoute({
      method: 'GET',
      path: '/tenants/:tenant/teams/:team/agents',
      tag: 'tenants',
      summary: "List a team's agents.",
      roles: ADMINS,
      params: TeamParams,
      response: listOf(AgentView),
      handler: async ({ principal, params }) => ({
        object: 'list' as const,
        data: Object.entries(teamOf(principal, params.tenant, params.team).agents).map(([id, a]) => agentView(params.tenant, params.team, id, a)),
        next_cursor: null,
      }),
    }),
    defineRoute({
      method: 'POST',
      path: '/tenants/:tenant/teams/:team/agents',
      tag: 'tenants',
      summary: 'Create an agent.',
      description: 'Agent ids are unique per tenant. Create its keys with POST /keys; they work at once.',
      roles: ADMINS,
      params: TeamParams,
      body: AgentBody.extend({ id: EntityId }),
      response: AgentView,
      status: 201,
      handler: async ({ principal, params, body }) => {
        teamOf(principal, params.tenant, params.team);
        const { id, ...fields } = body;
        const tenant = effective(deps).tenants[params.tenant]!;
        const holder = Object.entries(tenant.teams).find(([, t]) => t.agents[id] !== undefined)?.[0];
        if (holder) throw new GatewayError('conflict', `Tenant "${params.tenant}" has an agent "${id}" already (in team "${holder}"); agent ids are unique per tenant.`);
        await writeEntity(deps, principal, { kind: 'agent', id: `${params.tenant}/${id}`, tenantId: params.tenant, body: { ...fields, team: params.team } }, 'create');
        return agentView(params.tenant, params.team, id, effective(deps).tenants[params.tenant]!.teams[params.team]!.agents[id]!);
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/tenants/:tenant/teams/:team/agents/:agent',
      tag: 'tenants',
      summary: 'Get an agent.',
      roles: ADMINS,
      params: AgentParams,
      response: AgentView,
      handler: async ({ principal, params }) => agentView(params.tenant, params.team, params.agent, agentOf(principal, params.tenant, params.team, params.agent)),
    }),
    defineRoute({
      method: 'PUT',
      path: '/tenants/:tenant/teams/:team/agents/:agent',
      tag: 'tenants',
      summary: 'Replace an agent.',
      roles: ADMINS,
      params: AgentParams,
      body: AgentBody,
      response: AgentView,
      handler: async ({ principal, params, body }) => {
        agentOf(principal, params.tenant, params.team, params.agent);
        await writeEntity(deps, principal, { kind: 'agent', id: `${params.tenant}/${params.agent}`, tenantId: params.tenant, body: { ...body, team: params.team } }, 'replace');
        return agentView(params.tenant, params.team, params.agent, effective(deps).tenants[params.tenant]!.teams[params.team]!.agents[params.agent]!);
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/tenants/:tenant/teams/:team/agents/:agent',
      tag: 'tenants',
      summary: 'Delete an agent.',
      description: 'Its runtime keys stop authenticating (within `keys.cache_ttl`; revoke them to record why).',
      roles: ADMINS,
      params: AgentParams,
      status: 204,
      handler: async ({ principal, params }) => {
        agentOf(principal, params.tenant, params.team, params.agent);
        await writeEntity(deps, principal, { kind: 'agent', id: `${params.tenant}/${params.agent}`, tenantId: params.tenant, body: null }, 'delete');
      },
    }),
  ];

  const modelView = (id: string): z.input<typeof ModelView> => {
    const snapshot = deps.snapshots.current;
    const route = snapshot.routes.model(id);
    return { object: 'model', id, config: snapshot.config.models[id] as Record<string, unknown>, available: route !== undefined && route.unavailable === undefined, managed_by: managedBy(deps, 'model', id) };
  };
  const ModelParams = z.object({ model: z.string().min(1).max(128) });
  const modelRoutes = [
    defineRoute({
      method: 'GET',
      path: '/models',
      tag: 'models',
      summary: 'List models.',
      description: 'Every public model in force, with its configuration and whether a deployment can serve it.',
      roles: ADMINS,
      response: listOf(ModelView),
      handler: async ({ principal }) => {
        assertVisible(principal, null, 'models');
        return { object: 'list' as const, data: Object.keys(effective(deps).models).map(modelView), next_cursor: null };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/models/:model',
      tag: 'models',
      summary: 'Get a model.',
      roles: ADMINS,
      params: ModelParams,
      response: ModelView,
      handler: async ({ principal, params }) => {
        assertVisible(principal, null, `model "${params.model}"`);
        if (!effective(deps).models[params.model]) throw notFound(`model "${params.model}"`);
        return modelView(params.model);
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/models/:model',
      tag: 'models',
      summary: 'Create or replace a model.',
      description: 'The body is a model as in the deployment file (`provider` or `deployments`, `price`, `fallbacks`, …). Routable at once, on every replica within the sync bound. 409 `managed_by_file` for a model of the deployment file.',
      roles: ADMINS,
      params: ModelParams,
      body: EntitySchemas.model,
      response: ModelView,
      handler: async ({ principal, params, body, reply }) => {
        assertUnscoped(principal, 'models');
        const before = await writeEntity(deps, principal, { kind: 'model', id: params.model, tenantId: null, body: body as Record<string, unknown> }, 'upsert');
        if (!before) reply.code(201);
        return modelView(params.model);
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/models/:model',
      tag: 'models',
      summary: 'Delete a model.',
      description: 'Refused (400) while a tenant, alias or fallback still names it.',
      roles: ADMINS,
      params: ModelParams,
      status: 204,
      handler: async ({ principal, params }) => {
        assertUnscoped(principal, 'models');
        await writeEntity(deps, principal, { kind: 'model', id: params.model, tenantId: null, body: null }, 'delete');
      },
    }),
  ];

  const aliasRoutes = [
    defineRoute({
      method: 'GET',
      path: '/aliases',
      tag: 'models',
      summary: 'List tenant model aliases.',
      roles: ADMINS,
      query: z.object({ tenant: EntityId.optional() }),
      response: listOf(AliasView),
      handler: async ({ principal, query }) => {
        const only = listTenant(principal, query.tenant);
        const data = Object.entries(effective(deps).tenants)
          .filter(([id]) => only === undefined || id === only)
          .flatMap(([tenant, t]) => Object.entries(t.aliases).map(([alias, model]) => ({ object: 'alias' as const, tenant, alias, model, managed_by: managedBy(deps, 'alias', `${tenant}/${alias}`) })));
        return { object: 'list' as const, data, next_cursor: null };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/aliases',
      tag: 'models',
      summary: 'Create or replace a tenant model alias.',
      description: "The tenant's callers may then name `alias` as the model. Also for tenants of the deployment file (the alias is then managed by the API), unless the file declares the alias.",
      roles: ADMINS,
      body: z.object({ tenant: EntityId, alias: z.string().min(1).max(128), model: z.string().min(1).max(128) }).strict(),
      response: AliasView,
      status: 201,
      handler: async ({ principal, body }) => {
        tenantOf(deps, principal, body.tenant);
        await writeEntity(deps, principal, { kind: 'alias', id: `${body.tenant}/${body.alias}`, tenantId: body.tenant, body: { model: body.model } }, 'upsert');
        return { object: 'alias' as const, tenant: body.tenant, alias: body.alias, model: body.model, managed_by: 'api' as const };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/aliases/:tenant/:alias',
      tag: 'models',
      summary: 'Delete a tenant model alias.',
      roles: ADMINS,
      params: z.object({ tenant: EntityId, alias: z.string().min(1).max(128) }),
      status: 204,
      handler: async ({ principal, params }) => {
        tenantOf(deps, principal, params.tenant);
        await writeEntity(deps, principal, { kind: 'alias', id: `${params.tenant}/${params.alias}`, tenantId: params.tenant, body: null }, 'delete');
      },
    }),
  ];

  router.add(...tenantRoutes, ...scopeField('budget', 'budget', BudgetSchema, 'budget'), ...scopeField('rate_limits', 'rate-limits', RateLimitSchema, 'rate limits'), ...teamRoutes, ...agentRoutes, ...modelRoutes, ...aliasRoutes);
};
