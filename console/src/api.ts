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

/** A review item as the admin API shows it (GET /reviews/{id}, and the data of review.* events). */
export interface ReviewItem {
  id: string;
  decision_id: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired' | 'abandoned' | 'failed';
  mode: 'hold' | 'flag';
  tenant: string;
  team: string;
  agent: string;
  key_id: string;
  model: string;
  created_at: string;
  expires_at: string | null;
  on_timeout: 'allow' | 'block';
  risk: { score: number; factors: unknown[] };
  matched_rules: unknown[];
  policy: { name: string | null; version: string | null };
  request: unknown;
  tool_call: { name: string; arguments: unknown } | null;
  decided_at: string | null;
  reviewer: string | null;
  reason: string | null;
}

/** The fields the queue shows, with times as ms. */
export function reviewView(item: ReviewItem) {
  const time = (v: string | null | undefined) => (v ? Date.parse(v) : null);
  return {
    id: item.id,
    decisionId: item.decision_id ?? null,
    tenant: item.tenant ?? '',
    team: item.team ?? '',
    agent: item.agent ?? '',
    model: item.model,
    mode: item.mode,
    status: item.status,
    createdAt: time(item.created_at),
    expiresAt: time(item.expires_at),
    riskScore: item.risk?.score ?? 0,
    riskFactors: item.risk?.factors ?? [],
    matchedRules: item.matched_rules ?? [],
    policy: item.policy?.name ? `${item.policy.name}${item.policy.version ? ` @ ${item.policy.version}` : ''}` : null,
    request: item.request,
    toolCall: item.tool_call,
    reviewer: item.reviewer,
    reason: item.reason,
  };
}

export type AuditRecord = Record<string, unknown> & { decision_id: string };

/** GET /spend rows: the group (a team or agent within its tenant; or a model) and its sums. */
export interface SpendRow {
  tenant: string | null;
  team: string | null;
  agent: string | null;
  model: string | null;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

/** GET /budgets: a budget scope's live state. */
export interface Budget {
  scope: string;
  tenant: string;
  kind: 'tenant' | 'team' | 'agent' | 'key';
  limit_usd: number;
  spent_usd: number;
  reserved_usd: number;
  utilization: number;
  period: 'daily' | 'weekly' | 'monthly' | 'total';
  period_start: string;
  period_end: string | null;
  alerts: number[];
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
