/**
 * Providers under /admin/v1: the ones in force with each deployment's circuit state and where
 * the credential comes from; PUT /providers/:name/credential stores a credential (write-only,
 * sealed with OMEGA_MASTER_KEY, never returned, logged or put in an admin event). Also POST
 * /config/reload, which `omega config apply` calls.
 */
import { z } from 'zod';
import type { GatewayDeps } from '../../app.js';
import { GatewayError } from '../../errors.js';
import type { SealedCredential } from '../../store/types.js';
import type { AdminModule } from '../api.js';
import { recordAdminEvent } from '../events.js';
import { assertVisible, notFound, type AdminPrincipal } from '../principal.js';
import { ADMINS, defineRoute, listOf, READERS } from '../route.js';
import { assertUnscoped, EntityId } from './entities.js';

const ProviderView = z.object({
  object: z.literal('provider'),
  name: z.string(),
  type: z.string(),
  base_url: z.string().nullable(),
  credential: z.object({
    source: z.enum(['file', 'api', 'none']).describe('`file`: the deployment file gives `api_key` (read-only here); `api`: set with PUT …/credential; `none`: missing.'),
    updated_at: z.string().nullable(),
  }),
  deployments: z.array(z.object({ id: z.string(), circuit: z.string().describe('closed, open or half-open.'), in_flight: z.number(), queued: z.number(), opened: z.number() })),
  managed_by: z.literal('file'),
});

async function providerViews(deps: GatewayDeps): Promise<z.input<typeof ProviderView>[]> {
  const snapshot = deps.snapshots.current;
  const file = deps.runtime.fileConfig;
  const stored = new Map((await deps.stores.config.load()).credentials.map((c) => [c.provider, c]));
  const states = snapshot.routes.deploymentStates();
  return Object.entries(snapshot.config.providers).map(([name, p]) => {
    const fromFile = file.providers[name]?.api_key !== undefined;
    const api = stored.get(name);
    const source = fromFile ? 'file' : api && p.api_key !== undefined ? 'api' : 'none';
    return {
      object: 'provider' as const,
      name,
      type: p.type,
      base_url: p.base_url ?? null,
      credential: { source, updated_at: source === 'api' ? new Date(api!.updatedAt).toISOString() : null },
      deployments: Object.entries(states)
        .filter(([id]) => id.startsWith(`${name}/`))
        .map(([id, s]) => ({ id, ...s })),
      managed_by: 'file' as const,
    };
  });
}

/** The provider of the file, for a credential write by an unscoped admin; 404/409 otherwise. */
function credentialTarget(deps: GatewayDeps, principal: AdminPrincipal, name: string): void {
  assertUnscoped(principal, 'provider credentials');
  const provider = deps.runtime.fileConfig.providers[name];
  if (!provider) throw notFound(`provider "${name}"`);
  if (provider.api_key !== undefined) {
    throw new GatewayError('managed_by_file', `The provider "${name}" gets its credential from the deployment file (api_key); change it there.`);
  }
}

export const providerRoutes: AdminModule = (router, deps) => {
  router.add(
    defineRoute({
      method: 'GET',
      path: '/providers',
      tag: 'providers',
      summary: 'List providers with their circuit state.',
      description: 'Providers are declared in the deployment file. Never shows a credential, only where it comes from.',
      roles: READERS,
      response: listOf(ProviderView),
      handler: async ({ principal }) => {
        assertVisible(principal, null, 'providers');
        return { object: 'list' as const, data: await providerViews(deps), next_cursor: null };
      },
    }),
    defineRoute({
      method: 'PUT',
      path: '/providers/:name/credential',
      tag: 'providers',
      summary: "Set a provider's credential.",
      description:
        'Write-only: the credential is sealed (AES-256-GCM) with OMEGA_MASTER_KEY before it is stored and is never returned, logged or recorded; models of the provider are served with it at once, on every replica within the sync bound. 503 `master_key_missing` when the gateway has no master key; 409 `managed_by_file` when the file gives the provider `api_key`.',
      roles: ADMINS,
      params: z.object({ name: EntityId }),
      body: z.object({ api_key: z.string().min(1).max(8192).describe('The credential sent upstream.') }).strict(),
      response: z.object({ provider: z.string(), credential: z.object({ source: z.literal('api'), updated_at: z.string() }) }),
      handler: async ({ principal, params, body }) => {
        credentialTarget(deps, principal, params.name);
        if (!deps.sealer) {
          throw new GatewayError('master_key_missing', 'Provider credentials cannot be stored: the gateway has no master key. Set OMEGA_MASTER_KEY (32 random bytes, hex or base64, the same on every replica) and restart.');
        }
        const credential: SealedCredential = { provider: params.name, sealed: deps.sealer.seal(params.name, body.api_key), actor: principal.id, updatedAt: Date.now() };
        const had = (await deps.stores.config.load()).credentials.some((c) => c.provider === params.name);
        await deps.runtime.write(
          (s) => void (s.credentials = [...s.credentials.filter((c) => c.provider !== params.name), credential]),
          (store) => store.putCredential(credential),
        );
        // The event says that it changed, never what it is.
        await recordAdminEvent(deps, principal, { action: 'provider.credential.set', target: { type: 'provider', id: params.name }, before: { credential: had ? 'set' : 'none' }, after: { credential: 'set' } });
        return { provider: params.name, credential: { source: 'api' as const, updated_at: new Date(credential.updatedAt).toISOString() } };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/providers/:name/credential',
      tag: 'providers',
      summary: "Remove a provider's stored credential.",
      description: 'Models of the provider then answer 503 provider_not_configured until a credential is set again.',
      roles: ADMINS,
      params: z.object({ name: EntityId }),
      status: 204,
      handler: async ({ principal, params }) => {
        credentialTarget(deps, principal, params.name);
        if (!(await deps.stores.config.load()).credentials.some((c) => c.provider === params.name)) throw notFound(`stored credential of provider "${params.name}"`);
        await deps.runtime.write(
          (s) => void (s.credentials = s.credentials.filter((c) => c.provider !== params.name)),
          (store) => store.deleteCredential(params.name),
        );
        await recordAdminEvent(deps, principal, { action: 'provider.credential.delete', target: { type: 'provider', id: params.name }, before: { credential: 'set' }, after: { credential: 'none' } });
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/config/reload',
      tag: 'config',
      summary: 'Reload the deployment file on every replica.',
      description: 'This replica re-reads its file now and answers with the result; every other replica is told to re-read its own (they log a refusal). A file that does not load is refused and the configuration in force stays (`applied: false` with the problems). `omega config apply` calls this.',
      roles: ADMINS,
      response: z.object({ applied: z.boolean(), changed: z.boolean(), version: z.string(), problems: z.array(z.string()) }),
      handler: async ({ principal }) => {
        assertUnscoped(principal, 'the deployment configuration');
        const before = deps.snapshots.current.version;
        const result = await deps.runtime.reloadFile('admin api');
        if (result.applied) await deps.runtime.announce({ file: true });
        await recordAdminEvent(deps, principal, { action: 'config.reload', target: { type: 'config', id: deps.runtime.fileConfig.source }, before: { version: before }, after: { version: result.version, applied: result.applied } });
        return result.applied ? { applied: true, changed: result.changed, version: result.version, problems: [] } : { applied: false, changed: false, version: result.version, problems: result.problems };
      },
    }),
  );
};
