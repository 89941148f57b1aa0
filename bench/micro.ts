/**
 * In-process costs of the hot-path stages that have targets of their own: policy evaluation of
 * a typical few-KB request, and budget hold + settle with rate quotas, in memory. Mean over many
 * runs after a warm-up; printed by `npm run bench` before the HTTP scenarios.
 */
import { MemoryBudgetLedger } from '../src/budget/memory-ledger.js';
import { estimateInputTokens } from '../src/budget/tokens.js';
import { compilePolicy } from '../src/policy/compile.js';
import { segmentsOf } from '../src/policy/redact-request.js';
import { PolicySchema } from '../src/policy/schema.js';
import type { PolicyInput } from '../src/policy/types.js';
import { MemoryRateLimiter } from '../src/ratelimit/memory-limiter.js';

const prose =
  'Our quarterly report covers revenue, churn and the roadmap. Customers asked for better exports, ' +
  'faster search and an audit log. Please summarise the attached notes for the leadership meeting. ';

/** A realistic ~4 KB chat request: system prompt, a few turns, one e-mail address in it. */
export function typicalRequest(): Record<string, unknown> {
  return {
    model: 'gpt-5.4',
    max_tokens: 800,
    messages: [
      { role: 'system', content: 'You are a careful assistant for the finance team. ' + prose },
      { role: 'user', content: prose.repeat(10) + ' Contact: jane.doe@example.com.' },
      { role: 'assistant', content: prose.repeat(3) },
      { role: 'user', content: prose.repeat(6) + ' Thanks!' },
    ],
  };
}

export const BENCH_POLICY = PolicySchema.parse({
  thresholds: { review: 0.5, block: 0.8 },
  rules: [
    { id: 'no-secrets', detect: 'secrets', action: 'block' },
    { id: 'no-cards', detect: 'pii.payment_card', action: 'redact' },
    { id: 'pii-log', detect: 'pii', action: 'log' },
    { id: 'injection', detect: 'prompt_injection', action: 'review' },
    { id: 'review-term', detect: 'terms', terms: ['project falcon'], action: 'review' },
  ],
});

function mean(run: () => unknown, n: number): number {
  for (let i = 0; i < Math.min(200, n); i++) run();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) run();
  return ((performance.now() - t0) / n) * 1000;
}

async function meanAsync(run: () => Promise<unknown>, n: number): Promise<number> {
  for (let i = 0; i < 200; i++) await run();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await run();
  return ((performance.now() - t0) / n) * 1000;
}

export async function microBenchmarks(): Promise<Record<string, number>> {
  const body = typicalRequest();
  const bytes = JSON.stringify(body).length;
  const policy = compilePolicy('bench', BENCH_POLICY);
  const input = (): PolicyInput => ({
    segments: segmentsOf(body, 'chat'),
    model: 'gpt-5.4',
    endpoint: 'chat',
    estimatedCostUsd: 0.01,
    inputTokens: 1000,
    maxTokens: 800,
    tenantId: 'acme',
    teamId: 'research',
    agentId: 'bot',
    stream: false,
    toolsCount: 0,
    hasImages: false,
    endUser: null,
  });
  const policyUs = mean(() => policy.evaluate(input()), 3000);
  const tokenizerUs = mean(() => estimateInputTokens(body as never, 'gpt-5.4'), 500);

  const ledger = new MemoryBudgetLedger({ timeZone: 'UTC', sweepIntervalMs: 0 });
  const limiter = new MemoryRateLimiter();
  const scopes = [
    { key: 'tenant:acme', limitUsd: 1e9, period: 'monthly' as const, alerts: [0.5, 0.8, 1] },
    { key: 'team:acme/research', limitUsd: 1e9, period: 'monthly' as const, alerts: [] },
    { key: 'agent:acme/bot', limitUsd: 1e9, period: 'daily' as const, alerts: [] },
  ];
  const rules = [
    { key: 'tenant:acme', rpm: 1e9, tpm: 1e12 },
    { key: 'agent:acme/bot', rpm: 1e9, tpm: 1e12 },
    { key: 'agent:acme/bot/model:gpt-5.4', rpm: 1e9 },
  ];
  const budgetUs = await meanAsync(async () => {
    await limiter.consume(rules, 1800, 1000);
    const r = await ledger.reserve(scopes, 0.02, 600_000);
    if (r.ok) await ledger.commit(r.reservation, 0.013);
    await limiter.adjust(rules, -500);
  }, 20_000);
  ledger.close();
  limiter.close();
  return { request_bytes: bytes, policy_evaluate_us: policyUs, tokenizer_o200k_us: tokenizerUs, budget_and_limits_us: budgetUs };
}
