/**
 * Tenant API keys under /admin/v1/keys. Runtime keys live in the KeyStore (hashed); the secret
 * is returned once, by create and rotate. Keys of the deployment file are listed too
 * (`managed_by: file`, read-only). A revocation reaches every replica through the signal bus
 * (else within `keys.cache_ttl`).
 */
import { z } from 'zod';
import type { GatewayDeps } from '../../app.js';
import { generateApiKey, hashApiKey, keyHint } from '../../auth/api-keys.js';
import { GatewayError } from '../../errors.js';
import type { ApiKeyRecord } from '../../store/types.js';
import type { AdminModule } from '../api.js';
import { recordAdminEvent } from '../events.js';
import { assertVisible, listTenant, notFound, type AdminPrincipal } from '../principal.js';
import { ADMINS, defineRoute, listOf } from '../route.js';
import { EntityId } from './entities.js';

const KeyView = z.object({
  object: z.literal('key'),
  id: z.string(),
  tenant: z.string(),
  team: z.string().nullable(),
  agent: z.string(),
  hint: z.string().nullable().describe('Identifies the key without revealing it; null for keys of the deployment file.'),
  created_at: z.string().nullable(),
  expires_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
  status: z.enum(['active', 'expired', 'revoked']),
  managed_by: z.enum(['file', 'api']),
});
const CreatedKey = KeyView.extend({ key: z.string().describe('The secret: shown this once, never again (only its hash is kept).') });

const ExpiresAt = z.iso.datetime({ offset: true }).nullable().optional().describe('When the key stops authenticating (ISO 8601); absent or null: never.');

function view(deps: GatewayDeps, k: ApiKeyRecord, now = Date.now()): z.input<typeof KeyView> {
  const team = deps.snapshots.current.keys.principalFor(k.tenantId, k.agentId, k.id)?.teamId ?? null;
  const status = k.revokedAt ? 'revoked' : k.expiresAt && k.expiresAt.getTime() <= now ? 'expired' : 'active';
  return {
    object: 'key',
    id: k.id,
    tenant: k.tenantId,
    team,
    agent: k.agentId,
    hint: k.hint,
    created_at: k.createdAt.toISOString(),
    expires_at: k.expiresAt?.toISOString() ?? null,
    revoked_at: k.revokedAt?.toISOString() ?? null,
    status,
    managed_by: 'api',
  };
}

/** Keys declared in the deployment file, as the key list shows them. */
function fileKeys(deps: GatewayDeps, tenant: string | undefined): z.input<typeof KeyView>[] {
  const out: z.input<typeof KeyView>[] = [];
  for (const [tenantId, t] of Object.entries(deps.runtime.fileConfig.tenants)) {
    if (tenant !== undefined && tenant !== tenantId) continue;
    for (const [teamId, team] of Object.entries(t.teams)) {
      for (const [agentId, agent] of Object.entries(team.agents)) {
        for (const k of agent.keys) out.push({ object: 'key', id: k.id, tenant: tenantId, team: teamId, agent: agentId, hint: null, created_at: null, expires_at: null, revoked_at: null, status: 'active', managed_by: 'file' });
      }
    }
  }
  return out;
}

async function storedKey(deps: GatewayDeps, principal: AdminPrincipal, id: string): Promise<ApiKeyRecord> {
  const k = await deps.stores.keys.get(id);
  if (!k || (principal.tenant !== null && k.tenantId !== principal.tenant)) {
    if (fileKeys(deps, principal.tenant ?? undefined).some((f) => f.id === id)) {
      throw new GatewayError('managed_by_file', `The key "${id}" is declared in the deployment file; change it there.`);
    }
    throw notFound(`key "${id}"`);
  }
  return k;
}

/** Issues a new runtime key for an agent in force; the secret is in the answer only. */
async function issue(deps: GatewayDeps, tenant: string, agent: string, expiresAt: Date | null): Promise<{ record: ApiKeyRecord; key: string }> {
  const key = generateApiKey();
  const id = `key_${generateApiKey().slice(4, 16)}`;
  if (!deps.snapshots.current.keys.principalFor(tenant, agent, id)) throw notFound(`agent "${agent}" in tenant "${tenant}"`);
  const record: ApiKeyRecord = { id, hash: hashApiKey(key), tenantId: tenant, agentId: agent, hint: keyHint(key), createdAt: new Date(), revokedAt: null, expiresAt };
  await deps.stores.keys.create(record);
  return { record, key };
}

function expiry(value: string | null | undefined): Date | null {
  if (value === undefined || value === null) return null;
  const at = new Date(value);
  if (at.getTime() <= Date.now()) throw new GatewayError('invalid_request', 'expires_at: must be in the future.', { param: 'expires_at' });
  return at;
}

export const keyRoutes: AdminModule = (router, deps) => {
  router.add(
    defineRoute({
      method: 'GET',
      path: '/keys',
      tag: 'keys',
      summary: 'List API keys.',
      description: 'Runtime keys (hint, expiry, status) and the keys declared in the deployment file. Never a secret or a hash.',
      roles: ADMINS,
      query: z.object({ tenant: EntityId.optional() }),
      response: listOf(KeyView),
      handler: async ({ principal, query }) => {
        const tenant = listTenant(principal, query.tenant);
        const stored = (await deps.stores.keys.list(tenant === undefined ? {} : { tenantId: tenant })).map((k) => view(deps, k));
        return { object: 'list' as const, data: [...fileKeys(deps, tenant), ...stored], next_cursor: null };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/keys',
      tag: 'keys',
      summary: 'Create an API key.',
      description: 'For an agent in force (of the file or the API). The answer holds the secret `key`, shown this once. The key authenticates at once on this replica; on others at their next lookup.',
      roles: ADMINS,
      body: z.object({ tenant: EntityId, agent: EntityId, expires_at: ExpiresAt }).strict(),
      response: CreatedKey,
      status: 201,
      handler: async ({ principal, body }) => {
        assertVisible(principal, body.tenant, `tenant "${body.tenant}"`);
        const { record, key } = await issue(deps, body.tenant, body.agent, expiry(body.expires_at));
        const shown = view(deps, record);
        await recordAdminEvent(deps, principal, { action: 'key.create', target: { type: 'key', id: record.id }, tenant: record.tenantId, agent: record.agentId, before: null, after: shown });
        return { ...shown, key };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/keys/:id',
      tag: 'keys',
      summary: 'Get an API key (never its secret).',
      roles: ADMINS,
      params: z.object({ id: z.string().min(1).max(128) }),
      response: KeyView,
      handler: async ({ principal, params }) => view(deps, await storedKey(deps, principal, params.id)),
    }),
    defineRoute({
      method: 'POST',
      path: '/keys/:id/rotate',
      tag: 'keys',
      summary: 'Rotate an API key.',
      description: 'Issues a new key for the same agent (secret shown once) and revokes the old one at once. `expires_at` of the new key defaults to none.',
      roles: ADMINS,
      params: z.object({ id: z.string().min(1).max(128) }),
      body: z.object({ expires_at: ExpiresAt }).strict(),
      response: CreatedKey,
      status: 201,
      handler: async ({ principal, params, body }) => {
        const old = await storedKey(deps, principal, params.id);
        if (old.revokedAt) throw new GatewayError('conflict', `The key "${old.id}" is revoked already.`);
        const { record, key } = await issue(deps, old.tenantId, old.agentId, expiry(body.expires_at));
        await deps.stores.keys.revoke(old.id);
        await deps.runtime.keyRevoked(old.id);
        const shown = view(deps, record);
        await recordAdminEvent(deps, principal, { action: 'key.rotate', target: { type: 'key', id: old.id }, tenant: old.tenantId, agent: old.agentId, before: view(deps, old), after: shown });
        return { ...shown, key };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/keys/:id/revoke',
      tag: 'keys',
      summary: 'Revoke an API key.',
      description: 'At once on this replica, and on every other through the signal bus (else within `keys.cache_ttl`).',
      roles: ADMINS,
      params: z.object({ id: z.string().min(1).max(128) }),
      body: z.object({ reason: z.string().max(500).optional() }).strict(),
      response: KeyView,
      handler: async ({ principal, params, body }) => {
        const old = await storedKey(deps, principal, params.id);
        if (!(await deps.stores.keys.revoke(old.id))) throw new GatewayError('conflict', `The key "${old.id}" is revoked already.`);
        await deps.runtime.keyRevoked(old.id);
        const now = view(deps, (await deps.stores.keys.get(old.id))!);
        await recordAdminEvent(deps, principal, { action: 'key.revoke', target: { type: 'key', id: old.id }, tenant: old.tenantId, agent: old.agentId, before: view(deps, old), after: now, reason: body.reason ?? null });
        return now;
      },
    }),
  );
};
