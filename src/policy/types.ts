/** The policy engine's input and output shapes, shared by compile.ts, the response scanner and callers. */

export type Outcome = 'ALLOW' | 'REVIEW' | 'BLOCK';

/** One piece of text to scan and where it sits in the body, e.g. `messages[2].content`, `messages[0].content[1].text`, `input[0]`. */
export interface TextSegment {
  path: string;
  text: string;
  /**
   * Present when `text` is the Unicode-normalised form of the body's string (normalize.ts):
   * maps a span of `text` to the span of the original string it came from. Redactions are
   * always reported in original offsets.
   */
  span?: (start: number, end: number) => [number, number];
}

export interface PolicyInput {
  segments: TextSegment[];
  model: string;
  /** `mcp`: a tool call through the MCP gateway (then `tool` is set and `model` is `mcp:<server>`). */
  endpoint: 'chat' | 'embeddings' | 'mcp';
  /** The MCP tool call being judged; absent for model calls. */
  tool?: { name: string; server: string; args: Record<string, unknown> };
  estimatedCostUsd: number;
  inputTokens: number;
  maxTokens: number | null;
  tenantId: string;
  teamId: string;
  agentId: string;
  stream: boolean;
  toolsCount: number;
  hasImages: boolean;
  endUser: string | null;
}

/** One term of the risk score: `contribution` is what this factor alone would score (weight × signal). */
export interface RiskFactor {
  /** A detector id (`pii`, `secrets`, `prompt_injection`) or `rule:<id>`. */
  factor: string;
  signal: number;
  weight: number;
  contribution: number;
}

export interface Redaction {
  path: string;
  start: number;
  end: number;
  type: string;
}

export interface PolicySignals {
  pii_detected: boolean;
  pii_types: string[];
  secrets_detected: boolean;
  secret_types: string[];
  injection_score: number;
  /** Ids of matched rules with terms/patterns, never the matched text. */
  blocked_terms: string[];
}

export interface MatchedRule {
  id: string;
  action: string;
  shadow: boolean;
}

export interface PolicyResult {
  outcome: Outcome;
  riskScore: number;
  riskFactors: RiskFactor[];
  policyVersion: string;
  policyName: string;
  matchedRules: MatchedRule[];
  /** Spans to mask before forwarding (from live redact rules). */
  redactions: Redaction[];
  /** What the outcome would be with shadow rules enforced; null when the policy has no shadow rules for this phase. */
  shadowOutcome: Outcome | null;
  signals: PolicySignals;
  /** Rules whose `when` failed at run time (they count as not matched): `<rule id>: <message>`. */
  errors: string[];
  reviewMode: 'hold' | 'flag';
  reviewTimeoutMs: number;
  reviewOnTimeout: 'allow' | 'block';
}

export interface ScanVerdict {
  /** True once a live block rule matched; stays true for later pushes. */
  block: boolean;
  /** Live rules matched for the first time by this push (any action). */
  ruleIds: string[];
}

/** Incremental response scanning for streams: memory is bounded by the overlap window. */
export interface ResponseScanner {
  push(delta: string): ScanVerdict;
  /** The accumulated result over the whole response so far, for the audit record. */
  result(): PolicyResult;
}
