/**
 * Stage: resolve the requested model name (or tenant alias) to where it runs. Targets are built
 * once per configuration, so the hot path is two map lookups.
 */
import type { GatewayConfig } from '../config/load.js';
import type { ModelConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import type { ProviderAdapter, UpstreamTarget } from '../providers/adapter.js';
import { adapterFor, baseUrlFor } from '../providers/registry.js';
import type { Principal } from '../auth/directory.js';

export interface ResolvedRoute {
  readonly publicModel: string;
  readonly model: ModelConfig;
  readonly adapter: ProviderAdapter;
  readonly target: UpstreamTarget;
}

type RouteEntry = ResolvedRoute | { readonly publicModel: string; readonly unavailable: GatewayError };

export class RouteTable {
  private readonly routes = new Map<string, RouteEntry>();

  /** `baseUrls` overrides providers' API roots (the demo upstream's address is known only at start). */
  constructor(config: GatewayConfig, baseUrls: Readonly<Record<string, string>> = {}) {
    for (const [publicModel, model] of Object.entries(config.models)) {
      this.routes.set(publicModel, buildRoute(config, publicModel, model, baseUrls[model.provider]));
    }
  }

  /**
   * Resolves `requested` for `principal`, or throws `model_not_found` (unknown or not allowed:
   * the two are indistinguishable to the caller, so tenants cannot probe each other's models)
   * or `provider_not_configured` (known model whose provider lacks a credential).
   */
  resolve(requested: string, principal: Principal, endpoint: 'chat' | 'embeddings'): ResolvedRoute {
    const publicModel = principal.tenant.aliases[requested] ?? requested;
    const entry = this.routes.get(publicModel);
    if (!entry || !this.allowed(principal, requested, publicModel)) {
      throw new GatewayError('model_not_found', `The model "${requested}" does not exist or you do not have access to it.`, { param: 'model' });
    }
    if ('unavailable' in entry) throw entry.unavailable;
    if ((endpoint === 'embeddings') !== entry.model.embeddings) {
      const what = entry.model.embeddings ? 'an embeddings model; use /v1/embeddings' : 'a chat model; use /v1/chat/completions';
      throw new GatewayError('invalid_request', `The model "${requested}" is ${what}.`, { param: 'model' });
    }
    return entry;
  }

  /** Public model names this principal may use, for GET /v1/models. */
  modelsFor(principal: Principal): string[] {
    return [...this.routes.keys()].filter((name) => this.allowed(principal, name, name));
  }

  private allowed(principal: Principal, requested: string, publicModel: string): boolean {
    const list = principal.tenant.models;
    return list.includes('*') || list.includes(publicModel) || list.includes(requested);
  }
}

function buildRoute(config: GatewayConfig, publicModel: string, model: ModelConfig, baseUrlOverride: string | undefined): RouteEntry {
  const providerName = model.provider;
  const provider = config.providers[providerName]!;
  const missingVar = config.missingCredentials[providerName];
  if (missingVar) {
    return {
      publicModel,
      unavailable: new GatewayError(
        'provider_not_configured',
        `The model "${publicModel}" is configured, but its provider "${providerName}" has no credential: set the environment variable ${missingVar} and restart the gateway.`,
      ),
    };
  }
  const adapter = adapterFor(provider.type);
  const baseUrl = baseUrlOverride ?? baseUrlFor(provider);
  if (!adapter || !baseUrl) {
    const why = !adapter ? `provider type "${provider.type}" is not supported by this version` : 'it has no base_url';
    return {
      publicModel,
      unavailable: new GatewayError('provider_not_configured', `The model "${publicModel}" cannot be served: ${why}.`),
    };
  }
  return {
    publicModel,
    model,
    adapter,
    target: { providerName, provider, baseUrl, upstreamModel: model.model ?? publicModel, publicModel },
  };
}
