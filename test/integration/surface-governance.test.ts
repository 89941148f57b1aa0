/**
 * Same governance on every surface: one matrix sends the same blocked, redacted, held and
 * answer-blocked prompts through Chat Completions, Anthropic Messages and OpenAI Responses (with
 * the official SDKs) and checks that outcomes, rule ids, risk scores and audit fields agree,
 * except for the surface and endpoint. Then one agent's rate quota and budget, drawn down by
 * all three surfaces together.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { AuditRecord } from '../../src/audit/record.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.js';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI } from '../fakes/openai-upstream.js';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { adminCall, waitFor } from '../support/requests.js';

const GOV_KEY = 'omk_test_govern_key_0123456789abcde';
const QUOTA_KEY = 'omk_test_quota_key_0123456789abcdef';
const SPEND_KEY = 'omk_test_spend_key_0123456789abcdef';
const ADMIN = 'adm_test_alice_token_0123456789abcdef';
const CARD = '4111111111111111';

let gw: TestGateway;
let openai: Awaited<ReturnType<typeof startFakeOpenAI>>;
let anthropic: Awaited<ReturnType<typeof startFakeAnthropic>>;

beforeAll(async () => {
  [openai, anthropic] = await Promise.all([startFakeOpenAI(), startFakeAnthropic()]);
  gw = await startTestGateway(`
storage: { url: "sqlite://\${DATA_DIR}/omega.db" }
audit: { flush_interval: 20ms }
admin: { tokens: [ { id: alice, token: "${ADMIN}" } ] }
providers:
  openai: { type: openai, base_url: "${openai.baseUrl}", api_key: ${FAKE_UPSTREAM_KEY}, circuit_breaker: { enabled: false } }
  anthropic: { type: anthropic, base_url: "${anthropic.url}", api_key: sk-ant-test-key-789, circuit_breaker: { enabled: false } }
models:
  gpt-test: { provider: openai, model: gpt-upstream, retries: 0, price: { input: 2, output: 8 } }
  claude-test: { provider: anthropic, model: claude-upstream-1, retries: 0, price: { input: 2, output: 8 } }
policies:
  governed:
    thresholds: { review: 0.5, block: 0.95 }
    review: { mode: hold, timeout: 10s, on_timeout: block }
    rules:
      - { id: no-orion, terms: ["project orion"], action: block }
      - { id: mask-cards, detect: pii.payment_card, action: redact }
      - { id: needs-human, terms: ["deploy to production"], action: review }
      - { id: no-zebrafish-answers, terms: ["zebrafish"], on: response, action: block }
tenants:
  acme:
    teams:
      t:
        agents:
          gov: { policy: governed, keys: [ { id: k_gov, key: "${GOV_KEY}" } ] }
          quota: { rate_limits: { rpm: 3 }, keys: [ { id: k_quota, key: "${QUOTA_KEY}" } ] }
          spender: { budget: { usd: 5, period: daily }, keys: [ { id: k_spend, key: "${SPEND_KEY}" } ] }
`);
});
afterAll(async () => {
  await gw?.stop();
  await Promise.all([openai?.close(), anthropic?.close()]);
});

type Surface = 'chat' | 'messages' | 'responses';
const SURFACES: Surface[] = ['chat', 'messages', 'responses'];
const ENDPOINTS: Record<Surface, string> = { chat: '/v1/chat/completions', messages: '/v1/messages', responses: '/v1/responses' };

interface Outcome {
  status: number;
  text: string;
  decisionId: string | null;
  budgetLeft: string | null;
  /** The error body as the SDK parsed it. */
  error?: any;
}

/** Sends `text` through one surface with its official SDK, streamed or not, and reports what the client saw. */
async function send(surface: Surface, key: string, model: string, text: string, stream = false): Promise<Outcome> {
  let headers: Headers | undefined;
  const seen = (h: Headers) => (headers = h);
  const done = (out: Omit<Outcome, 'decisionId' | 'budgetLeft'>): Outcome => ({
    ...out,
    decisionId: headers?.get('x-omega-decision-id') ?? null,
    budgetLeft: headers?.get('x-omega-budget-remaining-usd') ?? null,
  });
  try {
    let answer = '';
    if (surface === 'messages') {
      const c = new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0 });
      const { data, response } = await c.messages.create({ model, max_tokens: 100, stream, messages: [{ role: 'user', content: text }] }).withResponse();
      seen(response.headers);
      if (stream) {
        for await (const e of data as AsyncIterable<Anthropic.RawMessageStreamEvent>) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') answer += e.delta.text;
      } else answer = (data as Anthropic.Message).content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    } else if (surface === 'chat') {
      const { data, response } = await gw.client(key).chat.completions.create({ model, max_tokens: 100, stream, messages: [{ role: 'user', content: text }] }).withResponse();
      seen(response.headers);
      if (stream) for await (const c of data as AsyncIterable<any>) answer += c.choices[0]?.delta?.content ?? '';
      else answer = (data as any).choices[0].message.content;
    } else {
      const { data, response } = await gw.client(key).responses.create({ model, max_output_tokens: 100, stream, input: text }).withResponse();
      seen(response.headers);
      if (stream) {
        for await (const e of data as AsyncIterable<any>) {
          if (e.type === 'response.output_text.delta') answer += e.delta;
          if (e.type === 'error') throw Object.assign(new Error(e.message), { status: 200, error: e });
        }
      } else answer = (data as any).output_text;
    }
    return done({ status: 200, text: answer });
  } catch (err: any) {
    if (err?.headers && !headers) seen(err.headers as Headers);
    return done({ status: err?.status ?? 0, text: '', error: err?.error ?? { message: String(err?.message) } });
  }
}

/** The governance part of an audit record: what must agree across surfaces. */
function governance(r: AuditRecord): Record<string, unknown> {
  const pick = [
    'policy_outcome', 'policy_name', 'policy_version', 'matched_rules', 'risk_score', 'risk_factors', 'pii_detected', 'pii_types',
    'blocked_terms', 'redactions', 'redaction_types', 'response_policy_outcome', 'response_matched_rules', 'review_mode', 'review_decision',
    'reviewer', 'http_status', 'error_code', 'tenant_id', 'team_id', 'agent_id', 'key_id', 'model_requested', 'stream',
  ] as const;
  return Object.fromEntries(pick.map((k) => [k, (r as any)[k]]));
}

async function records(outcomes: Outcome[]): Promise<AuditRecord[]> {
  return Promise.all(outcomes.map(async (o) => (await waitFor(() => gw.auditRecord(o.decisionId!), `audit of ${o.decisionId}`))!));
}

/** Asserts the records agree on governance, and each names its own surface and endpoint. */
function expectSameGovernance(recs: AuditRecord[]): void {
  recs.forEach((r, i) => expect(r).toMatchObject({ surface: i === 0 ? 'chat-completions' : i === 1 ? 'anthropic-messages' : 'openai-responses', endpoint: ENDPOINTS[SURFACES[i]!] }));
  expect(governance(recs[1]!)).toEqual(governance(recs[0]!));
  expect(governance(recs[2]!)).toEqual(governance(recs[0]!));
}

/** Sends through every surface one after the other (so upstream counts are per surface). */
async function everySurface(make: (s: Surface) => Promise<Outcome>): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const s of SURFACES) out.push(await make(s));
  return out;
}

describe('one policy, three surfaces', () => {
  it('blocks the same prompt with the same rule and score, forwarding nothing', async () => {
    const before = openai.requests.length;
    const outs = await everySurface((s) => send(s, GOV_KEY, 'gpt-test', 'Tell me everything about Project Orion'));
    expect(outs.map((o) => o.status)).toEqual([403, 403, 403]);
    expect(outs[0]!.error).toMatchObject({ code: 'policy_blocked' });
    expect(outs[1]!.error).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    expect(outs[2]!.error).toMatchObject({ code: 'policy_blocked' });
    for (const o of outs) expect(JSON.stringify(o.error)).toContain('no-orion');
    expect(openai.requests.length).toBe(before);
    const recs = await records(outs);
    expect(recs[0]).toMatchObject({ policy_outcome: 'BLOCK', matched_rules: ['no-orion'] });
    expect(recs[0]!.risk_score).toBeGreaterThanOrEqual(0.95);
    expectSameGovernance(recs);
  });

  it.each(['gpt-test', 'claude-test'])('redacts the same card on every surface before it reaches %s', async (model) => {
    const fake = model === 'gpt-test' ? openai : anthropic;
    const outs = await everySurface(async (s) => {
      const out = await send(s, GOV_KEY, model, `My card is ${CARD}, charge it.`);
      const raw = fake.requests.at(-1)!.raw.toString();
      expect(raw).toContain('[REDACTED:payment_card]');
      expect(raw).not.toContain(CARD);
      return out;
    });
    expect(outs.map((o) => o.status)).toEqual([200, 200, 200]);
    for (const o of outs) expect(o.text).toContain('My card is [REDACTED:payment_card], charge it.');
    const recs = await records(outs);
    expect(recs[0]).toMatchObject({ policy_outcome: 'ALLOW', matched_rules: ['mask-cards'], redactions: 1, redaction_types: ['payment_card'], pii_types: ['payment_card'] });
    expectSameGovernance(recs);
  });

  it('holds the same prompt for review on every surface; an approval through the admin API lets each through', async () => {
    const outs = await everySurface(async (s) => {
      const marker = `[held-${s}]`;
      const call = send(s, GOV_KEY, 'gpt-test', `Please deploy to production now ${marker}`);
      const item = await waitFor(async () => {
        const { json } = await adminCall(gw.url, 'GET', '/reviews?status=pending', undefined, ADMIN);
        return json.data.find((i: any) => JSON.stringify(i.request).includes(marker));
      }, `a pending review for ${marker}`);
      expect(item).toMatchObject({ mode: 'hold', agentId: 'gov', policyName: 'governed', matchedRules: [{ id: 'needs-human', action: 'review', shadow: false }] });
      expect(openai.requests.some((r) => r.rawBody.includes(marker))).toBe(false);
      const approved = await adminCall(gw.url, 'POST', `/reviews/${item.id}/approve`, { reason: 'release window' }, ADMIN);
      expect(approved.status).toBe(200);
      return call;
    });
    expect(outs.map((o) => o.status)).toEqual([200, 200, 200]);
    for (const o of outs) expect(o.text).toContain('Please deploy to production now');
    const recs = await records(outs);
    expect(recs[0]).toMatchObject({ policy_outcome: 'REVIEW', matched_rules: ['needs-human'], review_mode: 'hold', review_decision: 'approved', reviewer: 'alice' });
    expectSameGovernance(recs);
  });

  it.each([false, true])('blocks an answer a response rule forbids on every surface (stream: %s)', async (stream) => {
    const outs = await everySurface((s) => send(s, GOV_KEY, 'gpt-test', 'Name a small fish: zebrafish', stream));
    for (const o of outs) {
      expect(o.text).not.toContain('zebrafish');
      expect(JSON.stringify(o.error)).toContain('no-zebrafish-answers');
    }
    if (!stream) expect(outs.map((o) => o.status)).toEqual([403, 403, 403]);
    expect(outs[1]!.error).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    const recs = await records(outs);
    expect(recs[0]).toMatchObject({ policy_outcome: 'ALLOW', response_policy_outcome: 'BLOCK', response_matched_rules: ['no-zebrafish-answers'], error_code: 'policy_blocked', stream });
    expectSameGovernance(recs);
  });
});

describe('one agent, one quota, three surfaces', () => {
  it('draws the rate quota down across surfaces: the 4th request on any surface is 429 in its own shape', async () => {
    const first = await everySurface((s) => send(s, QUOTA_KEY, 'gpt-test', `quota via ${s}`));
    expect(first.map((o) => o.status)).toEqual([200, 200, 200]);
    const over = await everySurface((s) => send(s, QUOTA_KEY, 'gpt-test', `one too many via ${s}`));
    expect(over.map((o) => o.status)).toEqual([429, 429, 429]);
    expect(over[0]!.error).toMatchObject({ code: 'rate_limited' });
    expect(over[1]!.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(over[2]!.error).toMatchObject({ code: 'rate_limited' });
    const recs = await records(over);
    for (const r of recs) expect(r).toMatchObject({ rate_limited: true, http_status: 429, agent_id: 'quota' });
  });

  it('draws one budget down across surfaces: what is left is the budget minus what all three cost', async () => {
    const outs = await everySurface((s) => send(s, SPEND_KEY, 'gpt-test', `spend a little via ${s}`));
    expect(outs.map((o) => o.status)).toEqual([200, 200, 200]);
    const recs = await records(outs);
    const left = outs.map((o) => Number(o.budgetLeft));
    expect(left[0]).toBeGreaterThan(left[1]!);
    expect(left[1]).toBeGreaterThan(left[2]!);
    expect(recs.every((r) => r.cost_usd! > 0 && r.budget_reserved_usd! > 0)).toBe(true);
    // Each header is read when the request's hold is placed: the budget minus what the surfaces
    // before it spent, minus its own hold.
    let spent = 0;
    recs.forEach((r, i) => {
      expect(left[i]).toBeCloseTo(5 - spent - r.budget_reserved_usd!, 6);
      spent += r.cost_usd!;
    });
  });
});
