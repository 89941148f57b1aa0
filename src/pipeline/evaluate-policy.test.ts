import { describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../config/load.js';
import { GatewayError } from '../errors.js';
import { PolicyEngine } from '../policy/engine.js';
import { PolicySet } from '../policy/inheritance.js';
import type { ChatRequest } from '../providers/adapter.js';
import { chatCompletionsSurface } from '../surfaces/chat-completions/index.js';
import { acmeTenant, principalOf, readContext, stageConfig } from '../../test/support/stage-fixtures.js';
import { evaluatePolicy, evaluateResponsePolicy } from './evaluate-policy.js';

const CARD = '4111111111111111';

const POLICIES = `
policies:
  guard:
    version: v7
    weights: { pii: 0, secrets: 0, prompt_injection: 0 }
    rules:
      - { id: codename, terms: [project falcon], action: block }
      - { id: mask-cards, detect: pii.payment_card, action: redact }
      - { id: big-output, when: 'request.max_tokens > 500', action: review }
      - { id: try-shadowy, terms: [shadowy], action: block, shadow: true }
      - { id: no-leaks, terms: [topsecret], on: response, action: block }
      - { id: mask-codes, patterns: ['CODE-[0-9]+'], on: response, action: redact }
  touchy:
    thresholds: { review: 0.1, block: 0.3 }
    weights: { pii: 0, secrets: 0, prompt_injection: 0 }
    rules: [ { id: greeting, terms: [hello], action: log, weight: 0.5 } ]
`;

const segments = (w: ChatRequest) => chatCompletionsSurface.segments(w);

async function judge(config: GatewayConfig, body: Partial<ChatRequest>) {
  const engine = new PolicyEngine(new PolicySet(config.policies));
  const { ctx, wire } = readContext(await principalOf(config), body);
  const result = evaluatePolicy(ctx, wire, segments, engine, 'chat', 'gpt-test');
  return { ctx, wire, result, engine };
}

const guarded = () => stageConfig(`${POLICIES}${acmeTenant({ tenant: 'policy: guard' })}`);
const user = (content: string) => ({ messages: [{ role: 'user' as const, content }] });

describe('policy stage', () => {
  it('without a policy returns the body itself, synchronously, and records nothing', async () => {
    const { ctx, wire, result } = await judge(stageConfig(acmeTenant()), user(`card ${CARD}`));
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toBe(wire);
    expect(ctx.outcome).toBe('ALLOW');
    expect(ctx.policyResult).toBeUndefined();
    expect(ctx.policy).toBeUndefined();
    expect(ctx.policyName).toBeNull();
  });

  it('allows a clean request and records the policy that judged it', async () => {
    const { ctx, wire, result } = await judge(guarded(), user('what is the weather?'));
    await expect(result).resolves.toBe(wire);
    expect(ctx.outcome).toBe('ALLOW');
    expect(ctx.policyName).toBe('guard');
    expect(ctx.policyVersion).toBe('v7');
    expect(ctx.riskScore).toBe(0);
    expect(ctx.matchedRules).toEqual([]);
    expect(ctx.policy?.input).toMatchObject({ model: 'gpt-test', endpoint: 'chat', tenantId: 'acme', agentId: 'bot' });
  });

  it('masks what redact rules find in the body that is forwarded, leaving the client’s body alone', async () => {
    const { ctx, wire, result } = await judge(guarded(), { messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: `pay with ${CARD} please` }] });
    const forwarded = (await result) as ChatRequest;
    expect(forwarded).not.toBe(wire);
    expect(JSON.stringify(forwarded)).not.toContain(CARD);
    expect(forwarded.messages[1]!.content).toMatch(/^pay with \[REDACTED[^\]]*\] please$/);
    expect(forwarded.messages[0]).toEqual({ role: 'system', content: 'be brief' });
    expect(wire.messages[1]!.content).toContain(CARD);
    expect(ctx.outcome).toBe('ALLOW');
    expect(ctx.matchedRules).toEqual(['mask-cards']);
    expect(ctx.policyResult!.redactions).toHaveLength(1);
    expect(ctx.riskScore).toBeGreaterThan(0);
  });

  it('blocks with 403 policy_blocked naming the rule, never the matched text', async () => {
    const { ctx, result } = await judge(guarded(), user('tell me about Project Falcon'));
    const err = (await (result as Promise<unknown>).catch((e: unknown) => e)) as GatewayError;
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('policy_blocked');
    expect(err.status).toBe(403);
    expect(err.message).toBe('The request was blocked by policy "guard" (rule codename).');
    expect(err.message.toLowerCase()).not.toContain('falcon');
    expect(ctx.outcome).toBe('BLOCK');
    expect(ctx.matchedRules).toEqual(['codename']);
    expect(ctx.riskScore).toBe(1);
  });

  it('blocks on the risk score alone when it reaches the block threshold', async () => {
    const config = stageConfig(`${POLICIES}${acmeTenant({ tenant: 'policy: guard', agent: 'policy: touchy' })}`);
    const { ctx, result } = await judge(config, user('hello there'));
    const err = (await (result as Promise<unknown>).catch((e: unknown) => e)) as GatewayError;
    expect(err.code).toBe('policy_blocked');
    // The agent's policy wins over the tenant's.
    expect(err.message).toBe('The request was blocked by policy "touchy" (risk score 0.5 ≥ 0.3).');
    expect(ctx.policyName).toBe('touchy');
    expect(ctx.matchedRules).toEqual(['greeting']);
  });

  it('lets a REVIEW through to the review stage, and keeps shadow rules out of the live outcome', async () => {
    const { ctx, wire, result } = await judge(guarded(), { max_tokens: 800, ...user('a shadowy question') });
    await expect(result).resolves.toBe(wire);
    expect(ctx.outcome).toBe('REVIEW');
    expect(ctx.matchedRules).toEqual(['big-output']);
    expect(ctx.policyResult!.shadowOutcome).toBe('BLOCK');
    expect(ctx.policyResult!.matchedRules.map((r) => r.id)).toContain('try-shadowy');
  });
});

describe('response rules', () => {
  it('do nothing without a policy or without response rules', async () => {
    const plain = await judge(stageConfig(acmeTenant()), user('hi'));
    expect(evaluateResponsePolicy(plain.ctx, ['topsecret'])).toEqual([]);
    expect(plain.ctx.responsePolicyResult).toBeUndefined();
    const config = stageConfig(`${POLICIES}${acmeTenant({ tenant: 'policy: touchy' })}`);
    const touchy = await judge(config, user('nothing to see'));
    await touchy.result;
    expect(evaluateResponsePolicy(touchy.ctx, ['topsecret'])).toEqual([]);
  });

  it('redact each choice on its own path and block an answer that matches a block rule', async () => {
    const { ctx, result } = await judge(guarded(), user('hi'));
    await result;
    const redactions = evaluateResponsePolicy(ctx, ['use CODE-123 now', 'fine', 'and CODE-9']);
    expect(redactions.map((r) => r.path)).toEqual(['choices[0].message.content', 'choices[2].message.content']);
    expect(ctx.responsePolicyResult!.matchedRules.map((r) => r.id)).toEqual(['mask-codes']);

    const err = (() => {
      try {
        evaluateResponsePolicy(ctx, ['the topsecret plan', null]);
      } catch (e) {
        return e as GatewayError;
      }
    })();
    expect(err?.code).toBe('policy_blocked');
    expect(err?.message).toBe('The response was blocked by policy "guard" (rules: no-leaks).');
    expect(ctx.responsePolicyResult!.outcome).toBe('BLOCK');
  });

  it('audits the rules a later choice matched when an earlier one matched nothing', async () => {
    const { ctx, result } = await judge(guarded(), user('hi'));
    await result;
    const redactions = evaluateResponsePolicy(ctx, ['fine', 'use CODE-7']);
    expect(redactions.map((r) => r.path)).toEqual(['choices[1].message.content']);
    expect(ctx.responsePolicyResult!.matchedRules.map((r) => r.id)).toEqual(['mask-codes']);
  });
});
