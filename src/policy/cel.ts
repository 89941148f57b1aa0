/**
 * `when` expressions: CEL (no eval, no Function), type-checked against a fixed variable schema
 * at compile time so a typo such as `request.modle` fails when the policy loads, not per request.
 */
import { createRequire } from 'node:module';
import type { Environment } from '@marcbachmann/cel-js';
import type { PolicyInput, PolicySignals } from './types.js';

// Loaded (synchronously: Node 20.19+ requires ES modules) and built once, when the first policy
// with a `when` expression compiles: a configuration without one never loads CEL (~9 MB).
const require = createRequire(import.meta.url);
let built: Environment | undefined;
const celEnvironment = (): Environment => (built ??= buildEnvironment());

function buildEnvironment(): Environment {
  const { Environment } = require('@marcbachmann/cel-js') as typeof import('@marcbachmann/cel-js');
  return new Environment({ limits: { maxAstNodes: 1000, maxDepth: 32, maxListElements: 256, maxMapEntries: 64 } })
    .registerVariable({
      name: 'request',
      schema: {
        model: 'string',
        endpoint: 'string',
        cost_estimate_usd: 'double',
        input_tokens: 'int',
        max_tokens: 'int',
        stream: 'bool',
        tools_count: 'int',
        has_images: 'bool',
        end_user: 'string',
      },
    })
    .registerVariable({ name: 'principal', schema: { tenant: 'string', team: 'string', agent: 'string' } })
    .registerVariable({
      name: 'signals',
      schema: {
        pii_detected: 'bool',
        pii_types: 'list<string>',
        secrets_detected: 'bool',
        secret_types: 'list<string>',
        injection_score: 'double',
      },
    })
    // MCP tool calls (docs/mcp.md); empty name/server and no args for model calls.
    .registerVariable({ name: 'tool', schema: { name: 'string', server: 'string', args: 'map<string, dyn>' } })
    .registerVariable({ name: 'risk', schema: { score: 'double' } })
    .registerVariable('phase', 'string');
}

export type CelContext = Record<string, unknown>;
export type CelPredicate = (ctx: CelContext) => boolean;

/** Compiles a `when` expression; throws an Error naming `where` (policy and rule) when it is invalid or not boolean. */
export function compileWhen(expr: string, where: string): CelPredicate {
  const env = celEnvironment();
  let checked;
  try {
    checked = env.check(expr);
  } catch (err) {
    throw new Error(`${where}: invalid \`when\` expression: ${(err as Error).message}`);
  }
  if (!checked.valid) throw new Error(`${where}: invalid \`when\` expression: ${checked.error?.message ?? 'type error'}`);
  if (checked.type !== 'bool') throw new Error(`${where}: \`when\` must be a boolean expression, got ${checked.type}`);
  const fn = env.parse(expr);
  return (ctx) => fn(ctx) === true;
}

const NO_TOOL = Object.freeze({ name: '', server: '', args: Object.freeze({}) });

const int = (n: number): bigint => BigInt(Math.max(0, Math.round(Number.isFinite(n) ? n : 0)));

/** The variables a `when` expression sees. CEL ints are BigInt; absent values become 0 or ''. */
export function celContext(input: PolicyInput, signals: PolicySignals, riskScore: number, phase: 'request' | 'response' | 'tool_call'): CelContext {
  return {
    request: {
      model: input.model,
      endpoint: input.endpoint,
      cost_estimate_usd: input.estimatedCostUsd,
      input_tokens: int(input.inputTokens),
      max_tokens: int(input.maxTokens ?? 0),
      stream: input.stream,
      tools_count: int(input.toolsCount),
      has_images: input.hasImages,
      end_user: input.endUser ?? '',
    },
    principal: { tenant: input.tenantId, team: input.teamId, agent: input.agentId },
    signals: {
      pii_detected: signals.pii_detected,
      pii_types: signals.pii_types,
      secrets_detected: signals.secrets_detected,
      secret_types: signals.secret_types,
      injection_score: signals.injection_score,
    },
    tool: input.tool ?? NO_TOOL,
    risk: { score: riskScore },
    phase,
  };
}
