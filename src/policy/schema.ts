/**
 * The policy language (one entry under `policies` in the deployment file). Replaces the sketch in
 * config/schema.ts; every key is `.describe()`d for the generated JSON Schema and docs.
 * Semantics live in compile.ts and docs/policies.md.
 */
import { z } from 'zod';
import { PII_TYPES } from './detectors/pii.js';
import type { SecretType } from './detectors/secrets.js';

// Local copy of the config Duration helper: importing config/schema.ts would be a cycle once it imports this file.
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/i;
const Duration = z
  .union([z.number().int().nonnegative(), z.string().regex(DURATION_RE, 'a duration such as 500ms, 30s, 2m, 1h')])
  .transform((v) => {
    if (typeof v === 'number') return v;
    const m = DURATION_RE.exec(v)!;
    return Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  });

const Id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore (max 64)');

/** Secret types reported by the secrets detector; the type below fails to compile if the detector adds one. */
export const SECRET_TYPES = [
  'aws_access_key', 'aws_secret_key', 'github_token', 'openai_key', 'anthropic_key', 'google_api_key', 'slack_token',
  'stripe_key', 'private_key', 'jwt', 'bearer_token', 'password_assignment', 'high_entropy',
] as const satisfies readonly SecretType[];
const _allSecretTypesListed: Exclude<SecretType, (typeof SECRET_TYPES)[number]> extends never ? true : never = true;
void _allSecretTypesListed;

/** Values accepted by a rule's `detect`. */
export const DETECT_TARGETS = [
  'pii',
  ...PII_TYPES.map((t) => `pii.${t}`),
  'secrets',
  ...SECRET_TYPES.map((t) => `secrets.${t}`),
  'prompt_injection',
  'terms',
] as const;

export const ACTIONS = ['allow', 'block', 'review', 'redact', 'log'] as const;
export type RuleAction = (typeof ACTIONS)[number];

/** A matched rule's default contribution to the risk score, by action. */
export const DEFAULT_RULE_WEIGHTS: Record<RuleAction, number> = { block: 1, review: 0.6, redact: 0.3, log: 0.1, allow: 0 };

/** Default detector weights: a redacted PII or secret finding alone stays below review; injection cannot be redacted away. */
export const DEFAULT_DETECTOR_WEIGHTS = { pii: 0.2, secrets: 0.25, prompt_injection: 0.7 } as const;

const Weight = z.number().min(0).max(1);

export const RuleSchema = z
  .object({
    id: Id.describe('Rule id, recorded in matched_rules and risk_factors (never the matched text).'),
    description: z.string().max(500).optional().describe('Free text for humans; not evaluated.'),
    detect: z
      .enum(DETECT_TARGETS as unknown as [string, ...string[]])
      .optional()
      .describe('Content condition: true when the detector finds something in the scanned text. `pii` / `secrets` match any type, `pii.<type>` / `secrets.<type>` one type; `prompt_injection` compares the injection score with `min_confidence`; `terms` uses this rule\'s `terms` and `patterns`.'),
    terms: z.array(z.string().min(1)).optional().describe('Blocked words or phrases for `detect: terms` (case-insensitive, whole words, any whitespace between words). Implies `detect: terms`.'),
    patterns: z.array(z.string().min(1)).optional().describe('Regular expressions (JavaScript syntax; a leading `(?i)` makes one case-insensitive) for `detect: terms`. Must be linear: no nested quantifiers. Implies `detect: terms`.'),
    min_confidence: Weight.optional().describe('Least finding confidence that counts for `detect` (default: any finding). For `prompt_injection` it is the least injection score (default 0.5).'),
    models: z
      .object({
        allow: z.array(z.string().min(1)).optional().describe('Model names (`*` wildcard) allowed; any other model satisfies the condition.'),
        deny: z.array(z.string().min(1)).optional().describe('Model names (`*` wildcard) that satisfy the condition.'),
      })
      .strict()
      .refine((m) => m.allow !== undefined || m.deny !== undefined, { message: 'give `allow` or `deny`' })
      .optional()
      .describe('Model condition: true when the requested model is outside `allow` or inside `deny` (case-insensitive).'),
    max_cost_usd: z.number().nonnegative().optional().describe('Cost condition: true when the estimated request cost in USD is above this.'),
    max_input_tokens: z.number().int().nonnegative().optional().describe('Token condition: true when the estimated input tokens are above this.'),
    max_output_tokens: z.number().int().nonnegative().optional().describe('Token condition: true when the requested max_tokens is above this (a request without max_tokens does not satisfy it).'),
    tools: z
      .array(z.string().min(1).max(200))
      .min(1)
      .optional()
      .describe('Tool condition: true when the tool being judged — a tool call the model proposes (`on: tool_calls`) or an MCP tools/call — has a name matching one of these (`*` matches any run of characters; `server/tool` names an MCP server\'s tool). A model request without a tool never satisfies it.'),
    when: z.string().min(1).max(2000).optional().describe('CEL condition: a boolean expression over `request`, `principal`, `signals`, `tool`, `risk` and `phase` (see docs/policies.md).'),
    on: z
      .enum(['request', 'response', 'both', 'tool_calls'])
      .default('request')
      .describe('What the rule reads: the request, the model\'s response text, both, or each tool call the model proposes in its answer (`tool_calls`: `tool.name` and `tool.args` in `when`, detectors over the argument strings).'),
    action: z.enum(ACTIONS).describe('What a match does: block, review, redact the matched spans, log only, or allow (stop evaluating later rules).'),
    shadow: z.boolean().default(false).describe('Dry run: evaluated and recorded, but only changes shadow_outcome.'),
    weight: Weight.optional().describe('Contribution to the risk score when matched. Default by action: block 1.0, review 0.6, redact 0.3, log 0.1, allow 0.'),
  })
  .strict()
  .superRefine((r, ctx) => {
    const hasTerms = (r.terms?.length ?? 0) + (r.patterns?.length ?? 0) > 0;
    const conditions = [r.detect, r.models, r.max_cost_usd, r.max_input_tokens, r.max_output_tokens, r.when, r.tools];
    if (!hasTerms && conditions.every((c) => c === undefined)) {
      ctx.addIssue({ code: 'custom', message: `rule "${r.id}" has no condition (use \`when: "true"\` for a catch-all)` });
    }
    if (r.detect === 'terms' && !hasTerms) ctx.addIssue({ code: 'custom', path: ['terms'], message: `rule "${r.id}": detect: terms needs \`terms\` or \`patterns\`` });
    if (hasTerms && r.detect !== undefined && r.detect !== 'terms') {
      ctx.addIssue({ code: 'custom', path: ['detect'], message: `rule "${r.id}": \`terms\`/\`patterns\` only go with detect: terms` });
    }
    if (r.on === 'tool_calls' && r.action === 'redact') {
      ctx.addIssue({ code: 'custom', path: ['action'], message: `rule "${r.id}": a proposed tool call is blocked, reviewed, logged or allowed, not redacted` });
    }
    if (r.action === 'redact' && r.detect === undefined && !hasTerms) {
      ctx.addIssue({ code: 'custom', path: ['action'], message: `rule "${r.id}": redact needs a content condition (detect, terms or patterns)` });
    }
  });

export const PolicySchema = z
  .object({
    version: z.string().min(1).max(64).optional().describe('Version recorded in every audit record (policy_version). Default: a hash of the policy\'s canonical JSON, so any change yields a new version.'),
    thresholds: z
      .object({
        review: Weight.default(0.5).describe('Risk scores at or above this are REVIEW.'),
        block: Weight.default(0.8).describe('Risk scores at or above this are BLOCK.'),
      })
      .strict()
      .refine((t) => t.review <= t.block, { message: '`review` must not exceed `block`' })
      .prefault({})
      .describe('Risk-score thresholds mapping a score to REVIEW and BLOCK (request side only).'),
    review: z
      .object({
        mode: z.enum(['hold', 'flag']).default('hold').describe('hold: the request waits for a reviewer; flag: forwarded now, reviewed after.'),
        timeout: Duration.default(120_000).describe('hold mode: how long a request waits for a reviewer (ms, or e.g. `30s`, `2m`).'),
        on_timeout: z.enum(['allow', 'block']).default('block').describe('hold mode: what happens when nobody decides in time.'),
      })
      .strict()
      .prefault({})
      .describe('How REVIEW outcomes are handled.'),
    weights: z
      .object({
        pii: Weight.default(DEFAULT_DETECTOR_WEIGHTS.pii).describe('Weight of the PII signal (highest PII finding confidence).'),
        secrets: Weight.default(DEFAULT_DETECTOR_WEIGHTS.secrets).describe('Weight of the secrets signal (highest secret finding confidence).'),
        prompt_injection: Weight.default(DEFAULT_DETECTOR_WEIGHTS.prompt_injection).describe('Weight of the prompt-injection signal (injection score).'),
      })
      .strict()
      .prefault({})
      .describe('Per-detector weights in the risk score. A detector with weight 0 that no rule or expression uses is not run.'),
    rules: z.array(RuleSchema).default([]).describe('Ordered rules; see docs/policies.md for the decision logic.'),
  })
  .strict()
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.rules.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${r.id}"` });
      seen.add(r.id);
    });
  });

export type PolicyConfig = z.output<typeof PolicySchema>;
export type PolicyConfigInput = z.input<typeof PolicySchema>;
export type RuleConfig = z.output<typeof RuleSchema>;
