/** Shared fixtures for the policy tests: a policy from rules, and a request input. */
import { compilePolicy } from '../../src/policy/compile.js';
import { PolicySchema, type PolicyConfigInput } from '../../src/policy/schema.js';
import type { PolicyInput, TextSegment } from '../../src/policy/types.js';

export type Rule = NonNullable<PolicyConfigInput['rules']>[number];

export const policy = (rules: Rule[], extra: Omit<PolicyConfigInput, 'rules'> = {}) => compilePolicy('p', PolicySchema.parse({ ...extra, rules }));
/** Weights 0 keep the detector part of the score out of tests about rules. */
export const quiet = { weights: { pii: 0, secrets: 0, prompt_injection: 0 } };

export function input(text: string | TextSegment[] = 'hello', over: Partial<PolicyInput> = {}): PolicyInput {
  return {
    segments: typeof text === 'string' ? [{ path: 'messages[0].content', text }] : text,
    model: 'gpt-5.4-mini',
    endpoint: 'chat',
    estimatedCostUsd: 0.01,
    inputTokens: 100,
    maxTokens: null,
    tenantId: 'acme',
    teamId: 'research',
    agentId: 'bot-1',
    stream: false,
    toolsCount: 0,
    hasImages: false,
    endUser: null,
    ...over,
  };
}

export const ids = (r: { matchedRules: { id: string }[] }) => r.matchedRules.map((m) => m.id);
