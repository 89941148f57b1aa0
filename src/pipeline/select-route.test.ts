import { beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../auth/directory.js';
import type { GatewayConfig } from '../config/load.js';
import { GatewayError } from '../errors.js';
import { PROVIDER_KEY, principalOf, stageConfig } from '../../test/support/stage-fixtures.js';
import { RouteTable } from './select-route.js';

const GLOBEX_KEY = 'omk_test_globex_key_0123456789abcd';

const PROVIDERS = `
  keyless: { type: openai, base_url: "http://127.0.0.1:9/v1", api_key: "\${UNSET_PROVIDER_KEY}" }`;
const MODELS = `
  primary: { provider: fake-openai, fallbacks: [keyless-model, secondary, embed-test, hidden] }
  secondary: { provider: fake-openai, model: gpt-upstream, fallbacks: [primary, gpt-test], price: { input: 1, output: 1 } }
  keyless-model: { provider: keyless }
  rescued: { provider: keyless, fallbacks: [gpt-test] }
  hidden: { provider: fake-openai }
  weighted: { deployments: [ { provider: fake-openai, model: a, weight: 3 }, { provider: fake-openai, model: b, weight: 1 } ] }`;
const TENANTS = `
tenants:
  acme:
    models: [gpt-test, embed-test, primary, secondary, keyless-model, rescued, weighted]
    aliases: { fast: gpt-test }
    teams: { research: { agents: { bot: { keys: [ { id: key_acme_bot, key: "omk_test_acme_key_0123456789abcdef" } ] } } } }
  globex:
    models: ['*']
    teams: { ops: { agents: { runner: { keys: [ { id: key_globex, key: "${GLOBEX_KEY}" } ] } } } }
`;

let config: GatewayConfig;
let routes: RouteTable;
let acme: Principal;
let globex: Principal;

beforeAll(async () => {
  config = stageConfig(TENANTS, { providers: PROVIDERS, models: MODELS });
  routes = new RouteTable(config);
  acme = await principalOf(config);
  globex = await principalOf(config, GLOBEX_KEY);
});

function refusal(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error('expected a refusal');
}

describe('route stage', () => {
  it('resolves a model to its price, limits and deployments', () => {
    const model = routes.resolve('gpt-test', acme, 'chat');
    expect(model).toMatchObject({ publicModel: 'gpt-test', price: { input: 2, output: 8 }, embeddings: false, maxOutputTokens: 1000, retries: 0, unavailable: undefined });
    expect(model.deployments).toHaveLength(1);
    const [d] = model.deployments;
    expect(d!.deployment.id).toBe('fake-openai/gpt-upstream');
    expect(d!.target).toMatchObject({ providerName: 'fake-openai', baseUrl: 'http://127.0.0.1:9/v1', upstreamModel: 'gpt-upstream', publicModel: 'gpt-test' });
    expect(JSON.stringify(routes.deploymentStates())).not.toContain(PROVIDER_KEY);
  });

  it('follows the tenant’s aliases', () => {
    expect(routes.resolve('fast', acme, 'chat').publicModel).toBe('gpt-test');
    // Another tenant has no such alias.
    expect(refusal(() => routes.resolve('fast', globex, 'chat')).code).toBe('model_not_found');
  });

  it('answers 404 alike for unknown models and models the tenant may not use', () => {
    const unknown = refusal(() => routes.resolve('no-such-model', acme, 'chat'));
    const forbidden = refusal(() => routes.resolve('hidden', acme, 'chat'));
    for (const err of [unknown, forbidden]) {
      expect(err.code).toBe('model_not_found');
      expect(err.status).toBe(404);
      expect(err.param).toBe('model');
    }
    expect(forbidden.message).toBe(unknown.message.replace('no-such-model', 'hidden'));
    expect(routes.resolve('hidden', globex, 'chat').publicModel).toBe('hidden');
  });

  it('refuses a chat model on the embeddings endpoint and the reverse with 400', () => {
    const a = refusal(() => routes.resolve('gpt-test', acme, 'embeddings'));
    expect(a).toMatchObject({ code: 'invalid_request', status: 400, param: 'model' });
    expect(a.message).toContain('/v1/chat/completions');
    expect(refusal(() => routes.resolve('embed-test', acme, 'chat')).message).toContain('/v1/embeddings');
    expect(routes.resolve('embed-test', acme, 'embeddings').embeddings).toBe(true);
  });

  it('answers 503 provider_not_configured for a model no deployment can serve, naming the missing variable', () => {
    const err = refusal(() => routes.resolve('keyless-model', acme, 'chat'));
    expect(err.code).toBe('provider_not_configured');
    expect(err.status).toBe(503);
    expect(err.message).toContain('UNSET_PROVIDER_KEY');
    // With a usable fallback the request goes on, to the fallback alone.
    const rescued = routes.resolve('rescued', acme, 'chat');
    expect(routes.chain(rescued, acme).map((m) => m.publicModel)).toEqual(['gpt-test']);
  });

  it('chains fallbacks depth-first, each once, skipping unusable, forbidden and other-kind models', () => {
    const primary = routes.resolve('primary', acme, 'chat');
    expect(routes.chain(primary, acme).map((m) => m.publicModel)).toEqual(['primary', 'secondary', 'gpt-test']);
    // A tenant allowed everything also gets `hidden`; the cycle back to primary is not followed.
    expect(routes.chain(routes.resolve('primary', globex, 'chat'), globex).map((m) => m.publicModel)).toEqual(['primary', 'secondary', 'gpt-test', 'hidden']);
  });

  it('shares one deployment (breaker, queue) between models that run on the same provider model', () => {
    const a = routes.resolve('gpt-test', acme, 'chat').deployments[0]!.deployment;
    const b = routes.resolve('secondary', acme, 'chat').deployments[0]!.deployment;
    expect(b).toBe(a);
    const weighted = routes.resolve('weighted', acme, 'chat');
    expect(weighted.deployments.map((d) => [d.deployment.id, d.weight])).toEqual([
      ['fake-openai/a', 3],
      ['fake-openai/b', 1],
    ]);
    expect(Object.keys(routes.deploymentStates())).toEqual(expect.arrayContaining(['fake-openai/gpt-upstream', 'fake-openai/a', 'fake-openai/b']));
  });

  it('uses a provider address known only at start when one is given', () => {
    const table = new RouteTable(config, { 'fake-openai': 'http://127.0.0.1:4321/v1' });
    expect(table.resolve('gpt-test', acme, 'chat').deployments[0]!.target.baseUrl).toBe('http://127.0.0.1:4321/v1');
  });

  it('lists the models a principal may use', () => {
    expect(routes.modelsFor(acme).sort()).toEqual(['embed-test', 'gpt-test', 'keyless-model', 'primary', 'rescued', 'secondary', 'weighted']);
    expect(routes.modelsFor(globex)).toContain('hidden');
  });
});
