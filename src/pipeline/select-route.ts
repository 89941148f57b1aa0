/**
 * Stage: resolve the requested model name (or tenant alias) to the models and deployments that
 * can serve it: the model itself, then its fallbacks. Everything is built once per
 * configuration; the hot path is a few map lookups.
 */
import type { Principal } from '../auth/directory.js';
import type { GatewayConfig } from '../config/load.js';
import type { DeploymentConfig, ModelConfig, ProviderConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import type { ProviderAdapter, UpstreamTarget } from '../providers/adapter.js';
import { catalogEntry } from '../providers/catalog.js';
import { adapterFor, baseUrlFor } from '../providers/registry.js';
import { CircuitBreaker } from '../routing/circuit-breaker.js';
import { TrafficShaper } from '../routing/traffic-shaper.js';

export interface Price {
  input: number;
  output: number;
  cached_input?: number | undefined;
}

/** One place a model runs: a provider account and the model name it knows. Shared by every public model that uses it. */
export interface Deployment {
  /** `provider/upstream-model`, as in /readyz and the audit. */
  readonly id: string;
  readonly adapter: ProviderAdapter;
  readonly providerName: string;
  readonly upstreamModel: string;
  readonly breaker: CircuitBreaker;
  readonly shaper: TrafficShaper;
}

/** A public model as the router sees it. */
export interface ModelRoute {
  readonly publicModel: string;
  readonly price: Price;
  readonly embeddings: boolean;
  readonly contextWindow: number | undefined;
  readonly maxOutputTokens: number | undefined;
  readonly balance: 'weighted' | 'least-busy';
  readonly retries: number;
  readonly fallbacks: readonly string[];
  readonly contextFallback: string | undefined;
  /** Usable deployments with their weights; empty when `unavailable` is set. */
  readonly deployments: readonly { deployment: Deployment; weight: number; target: UpstreamTarget }[];
  /** Why no deployment can serve this model (e.g. a missing credential). */
  readonly unavailable: GatewayError | undefined;
}

/** What one upstream attempt goes to. */
export interface ResolvedRoute {
  readonly publicModel: string;
  readonly model: ModelRoute;
  readonly price: Price;
  readonly adapter: ProviderAdapter;
  readonly target: UpstreamTarget;
  readonly deployment: Deployment;
}

export class RouteTable {
  private readonly models = new Map<string, ModelRoute>();
  private readonly deploymentsById = new Map<string, Deployment>();

  /**
   * `baseUrls` overrides providers' API roots (the demo upstream's address is known only at
   * start). `previous` is the table this one replaces on a reload: a deployment whose provider's
   * circuit breaker and limits are unchanged keeps its breaker and shaper (circuit state and
   * requests in flight carry over).
   */
  constructor(
    private readonly config: GatewayConfig,
    private readonly baseUrls: Readonly<Record<string, string>> = {},
    private readonly previous?: RouteTable,
  ) {
    for (const [publicModel, model] of Object.entries(config.models)) this.models.set(publicModel, this.buildModel(publicModel, model));
  }

  /**
   * Resolves `requested` for `principal`, or throws `model_not_found` (unknown or not allowed:
   * the two are indistinguishable to the caller, so tenants cannot probe each other's models)
   * or `provider_not_configured` (known model that no deployment can serve).
   */
  resolve(requested: string, principal: Principal, endpoint: 'chat' | 'embeddings'): ModelRoute {
    const publicModel = principal.tenant.aliases[requested] ?? requested;
    const model = this.models.get(publicModel);
    if (!model || !this.allowed(principal, requested, publicModel)) {
      throw new GatewayError('model_not_found', `The model "${requested}" does not exist or you do not have access to it.`, { param: 'model' });
    }
    if ((endpoint === 'embeddings') !== model.embeddings) {
      const what = model.embeddings ? 'an embeddings model; use /v1/embeddings' : 'a chat model; use /v1/chat/completions';
      throw new GatewayError('invalid_request', `The model "${requested}" is ${what}.`, { param: 'model' });
    }
    if (model.unavailable && model.fallbacks.length === 0) throw model.unavailable;
    return model;
  }

  /**
   * The model followed by its fallbacks (recursively, each once), keeping only models the tenant
   * may use, of the same kind, that have a usable deployment.
   */
  chain(first: ModelRoute, principal: Principal): ModelRoute[] {
    const chain: ModelRoute[] = [];
    const seen = new Set<string>();
    const visit = (model: ModelRoute) => {
      if (seen.has(model.publicModel)) return;
      seen.add(model.publicModel);
      if (!model.unavailable) chain.push(model);
      for (const name of model.fallbacks) {
        const next = this.models.get(name);
        if (next && next.embeddings === first.embeddings && this.allowed(principal, name, name)) visit(next);
      }
    };
    visit(first);
    if (chain.length === 0) throw first.unavailable!;
    return chain;
  }

  model(publicModel: string): ModelRoute | undefined {
    return this.models.get(publicModel);
  }

  /** Public model names this principal may use, for GET /v1/models. */
  modelsFor(principal: Principal): string[] {
    return [...this.models.keys()].filter((name) => this.allowed(principal, name, name));
  }

  /** Circuit and queue state of every deployment, for /readyz and metrics. */
  deploymentStates(): Record<string, { circuit: string; in_flight: number; queued: number; opened: number }> {
    const out: Record<string, { circuit: string; in_flight: number; queued: number; opened: number }> = {};
    for (const d of this.deploymentsById.values()) {
      out[d.id] = { circuit: d.breaker.state, in_flight: d.shaper.inFlight, queued: d.shaper.queued, opened: d.breaker.opened };
    }
    return out;
  }

  /** This table's deployment `id`, when `provider`'s breaker and limits are as they were (reload). */
  private carriedOver(id: string, provider: ProviderConfig): Deployment | undefined {
    const old = this.deploymentsById.get(id);
    if (!old) return undefined;
    const was = this.config.providers[old.providerName];
    const same = was !== undefined && was.type === provider.type && JSON.stringify([was.circuit_breaker, was.limits]) === JSON.stringify([provider.circuit_breaker, provider.limits]);
    return same ? old : undefined;
  }

  private allowed(principal: Principal, requested: string, publicModel: string): boolean {
    const list = principal.tenant.models;
    return list.includes('*') || list.includes(publicModel) || list.includes(requested);
  }

  private buildModel(publicModel: string, model: ModelConfig): ModelRoute {
    const catalog = catalogEntry(publicModel) ?? (model.model === undefined ? undefined : catalogEntry(model.model));
    const upstreamDefault = model.model ?? catalog?.upstreamModel ?? publicModel;
    const declared: DeploymentConfig[] = model.deployments ?? [{ provider: model.provider!, weight: 1 }];
    const deployments: ModelRoute['deployments'][number][] = [];
    const problems: string[] = [];
    for (const d of declared) {
      const built = this.buildDeployment(d, d.model ?? upstreamDefault, publicModel);
      if (typeof built === 'string') problems.push(built);
      else deployments.push({ deployment: built.deployment, target: built.target, weight: d.weight });
    }
    return {
      publicModel,
      price: model.price ?? catalog?.price ?? { input: 0, output: 0 },
      embeddings: model.embeddings ?? catalog?.capabilities.embeddings ?? false,
      contextWindow: model.context_window ?? catalog?.contextWindow,
      maxOutputTokens: model.max_output_tokens ?? catalog?.maxOutputTokens,
      balance: model.balance,
      retries: model.retries,
      fallbacks: model.fallbacks,
      contextFallback: model.context_fallback,
      deployments,
      unavailable:
        deployments.length > 0
          ? undefined
          : new GatewayError('provider_not_configured', `The model "${publicModel}" is configured, but cannot be served: ${problems.join('; ')}.`),
    };
  }

  private buildDeployment(d: DeploymentConfig, upstreamModel: string, publicModel: string): { deployment: Deployment; target: UpstreamTarget } | string {
    const provider = this.config.providers[d.provider]!;
    const missingVar = this.config.missingCredentials[d.provider];
    if (missingVar) return `its provider "${d.provider}" has no credential: set the environment variable ${missingVar} and restart the gateway, or set it with PUT /admin/v1/providers/${d.provider}/credential`;
    const adapter = adapterFor(provider.type);
    if (!adapter) return `provider type "${provider.type}" is not supported by this version`;
    const baseUrl = this.baseUrls[d.provider] ?? baseUrlFor(provider);
    if (!baseUrl) return `provider "${d.provider}" has no base_url`;
    const id = `${d.provider}/${upstreamModel}`;
    let deployment = this.deploymentsById.get(id) ?? this.previous?.carriedOver(id, provider);
    if (deployment) this.deploymentsById.set(id, deployment);
    else {
      deployment = {
        id,
        adapter,
        providerName: d.provider,
        upstreamModel,
        breaker: new CircuitBreaker(provider.circuit_breaker),
        shaper: new TrafficShaper(provider.limits),
      };
      this.deploymentsById.set(id, deployment);
    }
    return { deployment, target: { providerName: d.provider, provider, baseUrl, upstreamModel, publicModel } };
  }
}
