/**
 * The console's one door to the gateway: JSON calls to /admin/v1 and /console/auth with the
 * session cookie (same origin), the CSRF token on every write, and errors in the gateway's
 * OpenAI shape turned into ApiError. A 401 anywhere means the session is gone: listeners
 * (the app shell) send the user back to sign-in.
 */

export type AdminRole = 'admin' | 'reviewer' | 'auditor';

export interface AdminPrincipal {
  id: string;
  kind: 'token' | 'user';
  role: AdminRole;
  tenant: string | null;
  name?: string;
}

export interface Session {
  principal: AdminPrincipal;
  csrf_token?: string;
}

export interface List<T> {
  object: 'list';
  data: T[];
  next_cursor?: string | null;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
const unauthenticatedListeners = new Set<() => void>();

export function setCsrfToken(token: string | null | undefined): void {
  csrfToken = token ?? null;
}

/** Called when any call answers 401: the session expired or was revoked. */
export function onUnauthenticated(listener: () => void): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

export interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
  /** Sign-in calls expect 401 as an answer, not as a lost session. */
  quietUnauthenticated?: boolean;
}

export async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError('The gateway could not be reached. Check your connection and try again.', 0, 'network_error');
  }
  const text = await res.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (!res.ok) {
    const error = (body as { error?: { message?: string; code?: string; param?: string } } | undefined)?.error;
    const err = new ApiError(error?.message ?? `The gateway answered ${res.status} ${res.statusText}.`, res.status, error?.code ?? null, error?.param ?? null);
    if (res.status === 401 && !options.quietUnauthenticated) for (const l of unauthenticatedListeners) l();
    throw err;
  }
  return body as T;
}

export const admin = <T>(path: string, options?: CallOptions) => call<T>(`/admin/v1${path}`, options);

// ---- shapes of the admin API (see the contract in docs/admin-api.md) ----

export interface OverviewBucket {
  start: string;
  requests: number;
  allow: number;
  review: number;
  block: number;
  errors: number;
  cost_usd: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
}

export interface Overview {
  window: string;
  buckets: OverviewBucket[];
  totals: { requests: number; allow: number; review: number; block: number; errors: number; cost_usd: number };
}

export interface ReviewItem {
  id: string;
  decisionId?: string;
  decision_id?: string;
  tenantId?: string;
  tenant?: string;
  teamId?: string;
  agentId?: string;
  keyId?: string;
  model: string;
  mode: 'hold' | 'flag';
  status: 'pending' | 'approved' | 'rejected' | 'expired' | 'abandoned' | 'failed';
  createdAt?: number | string;
  created_at?: number | string;
  expiresAt?: number | string | null;
  expires_at?: number | string | null;
  riskScore?: number;
  risk_score?: number;
  riskFactors?: unknown[];
  risk_factors?: unknown[];
  matchedRules?: unknown[];
  matched_rules?: unknown[];
  policyName?: string | null;
  policyVersion?: string | null;
  request?: unknown;
  tool_call?: unknown;
  toolCall?: unknown;
  decidedAt?: number | string | null;
  reviewer?: string | null;
  reason?: string | null;
}

/** Field access that accepts both the store's camelCase and the API's snake_case spellings. */
export function reviewView(item: ReviewItem) {
  const time = (v: number | string | null | undefined) => (v === null || v === undefined ? null : typeof v === 'number' ? v : Date.parse(v));
  return {
    id: item.id,
    decisionId: item.decision_id ?? item.decisionId ?? null,
    tenant: item.tenant ?? item.tenantId ?? '',
    team: item.teamId ?? '',
    agent: item.agentId ?? '',
    model: item.model,
    mode: item.mode,
    status: item.status,
    createdAt: time(item.created_at ?? item.createdAt),
    expiresAt: time(item.expires_at ?? item.expiresAt),
    riskScore: item.risk_score ?? item.riskScore ?? 0,
    riskFactors: item.risk_factors ?? item.riskFactors ?? [],
    matchedRules: item.matched_rules ?? item.matchedRules ?? [],
    policy: item.policyName ? `${item.policyName}${item.policyVersion ? ` @ ${item.policyVersion}` : ''}` : null,
    request: item.request,
    toolCall: item.tool_call ?? item.toolCall ?? null,
    reviewer: item.reviewer ?? null,
    reason: item.reason ?? null,
  };
}

export type AuditRecord = Record<string, unknown> & { decision_id: string };

/** GET /spend rows: the group's columns (tenant_id; team_id, agent_id within it; or model) and sums. */
export interface SpendRow {
  tenant_id?: string | null;
  team_id?: string | null;
  agent_id?: string | null;
  model?: string | null;
  requests?: number;
  input_tokens?: number;
  output_tokens?: number;
  cost_usd?: number;
  [k: string]: unknown;
}

export interface Budget {
  scope: string;
  limit_usd?: number;
  limit?: number;
  spent_usd?: number;
  spent?: number;
  reserved_usd?: number;
  reserved?: number;
  period?: string;
  [k: string]: unknown;
}

export interface AuthConfig {
  oidc: { enabled: boolean; name?: string };
}

export function formatTime(ms: number | string | null | undefined): string {
  if (ms === null || ms === undefined || ms === '') return '—';
  const d = new Date(typeof ms === 'number' ? ms : Date.parse(ms));
  if (Number.isNaN(d.getTime())) return String(ms);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function formatUsd(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return n.toLocaleString(undefined, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: n !== 0 && Math.abs(n) < 0.01 ? 6 : 2 });
}
