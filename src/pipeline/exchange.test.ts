import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../auth/directory.js';
import type { GatewayConfig } from '../config/load.js';
import { GatewayError } from '../errors.js';
import { PolicyEngine } from '../policy/engine.js';
import { PolicySet } from '../policy/inheritance.js';
import type { ChatRequest } from '../providers/adapter.js';
import { chatCompletionsSurface } from '../surfaces/chat-completions/index.js';
import { embeddingsSurface } from '../surfaces/embeddings/index.js';
import type { Surface } from '../surfaces/surface.js';
import { startFakeOpenAI, type FakeOpenAI } from '../../test/fakes/openai-upstream.js';
import { ReviewQueue } from '../review/queue.js';
import { KyselyReviewStore } from '../store/review-store.js';
import { PROVIDER_KEY, acmeTenant, principalOf, readContext, scratchDb, stageConfig } from '../../test/support/stage-fixtures.js';
import { evaluatePolicy } from './evaluate-policy.js';
import { forwardChat, forwardEmbeddings, type Exchange } from './exchange.js';
import { UpstreamClient } from './forward.js';
import { sendError } from './respond.js';
import { RouteTable } from './select-route.js';

let fake: FakeOpenAI;
let config: GatewayConfig;
let upstream: UpstreamClient;
let routes: RouteTable;
let acme: Principal;
let masked: Principal;
let app: FastifyInstance;
let url: string;
/** What the next request to the app runs: the forward stage of one exchange. */
let next: ((reply: FastifyReply) => Promise<void>) | undefined;

const POLICIES = `
policies:
  answers:
    weights: { pii: 0, secrets: 0, prompt_injection: 0 }
    rules:
      - { id: mask-codes, patterns: ['CODE-[0-9]+'], on: response, action: redact }
      - { id: no-leaks, terms: [topsecret], on: response, action: block }
`;
const MASKED_KEY = 'omk_test_masked_key_0123456789abcd';

let reviews: ReviewQueue;

beforeAll(async () => {
  // The review queue of proposed tool calls (unused by these policies, which have no `on: tool_calls` rules).
  reviews = new ReviewQueue(new KyselyReviewStore((await scratchDb()).db, false), { webhook: undefined, pollMs: 1000, log: { warn: () => undefined } });
  fake = await startFakeOpenAI();
  config = stageConfig(
    `${POLICIES}${acmeTenant()}
  masked:
    models: ['*']
    policy: answers
    teams: { t: { agents: { a: { keys: [ { id: key_masked, key: "${MASKED_KEY}" } ] } } } }
routing: { initial_backoff: 10ms, max_backoff: 50ms }`,
    {
      upstream: fake.baseUrl,
      providers: `  nowhere: { type: openai, base_url: "http://127.0.0.1:9/v1", api_key: "${PROVIDER_KEY}", circuit_breaker: { enabled: false } }`,
      models: '  flaky: { provider: nowhere, retries: 0, fallbacks: [gpt-test] }\n  broken: { provider: nowhere, retries: 1 }',
    },
  );
  upstream = new UpstreamClient(config);
  routes = new RouteTable(config);
  acme = await principalOf(config);
  masked = await principalOf(config, MASKED_KEY);
  app = Fastify();
  app.post('/', async (_req, reply) => next!(reply));
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  reviews.shutdown();
  await app.close();
  await upstream.close();
  await fake.close();
});

/** Runs the forward stage for `body` as the runner would, and reads the answer as a client. */
async function forward(body: Partial<ChatRequest> & { input?: unknown }, options: { principal?: Principal; surface?: Surface; store?: boolean } = {}) {
  const surface = options.surface ?? chatCompletionsSurface;
  const { ctx, wire: chatWire } = readContext(options.principal ?? acme, surface.kind === 'chat' ? body : {});
  let wire: object = surface.kind === 'chat' ? chatWire : surface.parse({ model: 'embed-test', ...body }, { headers: {}, query: '' }).wire;
  ctx.modelRequested = (wire as { model: string }).model;
  if (options.store) ctx.storedCompletion = [];
  // The policy stage leaves the compiled policy on the context for response rules.
  wire = await evaluatePolicy(ctx, wire, (w) => surface.segments(w as never), new PolicyEngine(new PolicySet(config.policies)), surface.kind, ctx.modelRequested);
  const model = routes.resolve(ctx.modelRequested, ctx.principal!, surface.kind);
  let commits = 0;
  let failure: GatewayError | undefined;
  next = async (reply) => {
    const abort = new AbortController();
    const x: Exchange = { ctx, surface, inbound: { headers: {}, query: '' }, raw: body, wire, model, chain: routes.chain(model, ctx.principal!), reply, abort, signal: abort.signal, commitCost: async () => void commits++ };
    try {
      await (surface.kind === 'chat' ? forwardChat(x, upstream, routes, config.routing, reviews) : forwardEmbeddings(x, upstream, routes, config.routing));
    } catch (err) {
      failure = err as GatewayError;
      sendError(reply, ctx, err);
    }
  };
  const res = await request(url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  const text = await res.body.text();
  return { ctx, status: res.statusCode, headers: res.headers, text, failure, commits: () => commits };
}

const user = (content: string) => ({ messages: [{ role: 'user' as const, content }] });
const contentOf = (text: string) => (JSON.parse(text) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;

describe('exchange: forward, observe, respond', () => {
  it('answers with the provider’s answer and the gateway headers, and records what it observed', async () => {
    const { ctx, status, headers, text, commits } = await forward({ max_tokens: 50, ...user('hello') });
    expect(status).toBe(200);
    expect(contentOf(text)).toBe('Echo: hello');
    expect(headers['x-omega-decision-id']).toBe(ctx.decisionId);
    expect(headers['x-omega-model']).toBe('gpt-test');
    expect(headers['x-omega-upstream-request-id']).toBe(ctx.upstreamRequestId);
    expect(ctx.usage?.outputTokens).toBe(2);
    expect(ctx.costUsd).toBeGreaterThan(0);
    expect(headers['x-omega-cost-usd']).toBe(ctx.costUsd.toFixed(8).replace(/0+$/, ''));
    expect(ctx.finishReason).toBe('stop');
    expect(ctx.outputChars).toBe('Echo: hello'.length);
    expect(ctx.outputHash).toBe(createHash('sha256').update('Echo: hello').digest('hex'));
    expect(ctx.fallbackChain).toEqual(['gpt-test']);
    expect(ctx.attemptLog).toMatchObject([{ model: 'gpt-test', deployment: 'fake-openai/gpt-upstream', status: 200, error: null }]);
    expect(commits()).toBe(1);
  });

  it('falls back to the next model when the first cannot be reached, recording every attempt', async () => {
    const { ctx, status, text } = await forward({ model: 'flaky', ...user('hi') });
    expect(status).toBe(200);
    expect(contentOf(text)).toBe('Echo: hi');
    expect(ctx.route?.publicModel).toBe('gpt-test');
    expect(ctx.fallbackChain).toEqual(['flaky', 'gpt-test']);
    expect(ctx.attemptLog.map((a) => [a.model, a.status])).toEqual([['flaky', null], ['gpt-test', 200]]);
    expect(ctx.attemptLog[0]!.error).toContain('could not be reached');
  });

  it('throws the last error when every attempt fails, before anything reached the client', async () => {
    const { ctx, status, failure, commits } = await forward({ model: 'broken', ...user('hi') });
    expect(failure?.code).toBe('upstream_unreachable');
    expect(status).toBe(502);
    expect(ctx.attempts).toBe(2);
    expect(ctx.usage).toBeUndefined();
    expect(commits()).toBe(0);
  });

  it('keeps the completion for the audit when the tenant stores content, and scrubs credentials from answers', async () => {
    const { ctx, text } = await forward(user(`repeat ${PROVIDER_KEY}`), { store: true });
    expect(text).not.toContain(PROVIDER_KEY);
    expect(contentOf(text)).toBe('Echo: repeat [redacted]');
    expect(ctx.storedCompletion).toEqual([`Echo: repeat ${PROVIDER_KEY}`]);
  });

  it('applies response rules: redacts the answer, or refuses it with 403', async () => {
    const redacted = await forward(user('your CODE-1234'), { principal: masked });
    expect(contentOf(redacted.text)).toMatch(/^Echo: your \[REDACTED[^\]]*\]$/);
    expect(redacted.ctx.responsePolicyResult?.matchedRules.map((r) => r.id)).toEqual(['mask-codes']);
    const blocked = await forward(user('the topsecret plan'), { principal: masked });
    expect(blocked.status).toBe(403);
    expect(blocked.failure?.code).toBe('policy_blocked');
    expect(blocked.text).not.toContain('topsecret plan');
    expect(blocked.ctx.usage).toBeDefined(); // the provider billed it: metered all the same
    expect(blocked.commits()).toBe(0);
  });

  it('streams the answer as server-sent events with the gateway headers', async () => {
    const { ctx, status, headers, text, commits } = await forward({ stream: true, ...user('flow') }, { store: true });
    expect(status).toBe(200);
    expect(headers['content-type']).toContain('text/event-stream');
    expect(headers['x-omega-decision-id']).toBe(ctx.decisionId);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(fake.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
    expect(ctx.usage?.outputTokens).toBeGreaterThan(0);
    expect(ctx.storedCompletion!.join('')).toBe('Echo: flow');
    expect(commits()).toBe(1);
  });

  it('forwards embeddings and records their usage', async () => {
    const { ctx, status, text, commits } = await forward({ input: ['one', 'two'] }, { surface: embeddingsSurface });
    expect(status).toBe(200);
    const answer = JSON.parse(text) as { data: unknown[]; usage: { prompt_tokens: number } };
    expect(answer.data).toHaveLength(2);
    expect(ctx.usage?.inputTokens).toBe(answer.usage.prompt_tokens);
    expect(ctx.costUsd).toBeGreaterThan(0);
    expect(commits()).toBe(1);
  });
});

