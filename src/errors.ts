/**
 * The one catalog of errors a client can see. Every refusal or failure in the gateway is a
 * `GatewayError` with a stable `code`; `toOpenAIError()` renders it in the OpenAI error shape.
 * Anything that is not a GatewayError becomes a generic 500 that leaks nothing.
 */

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'api_error'
  | 'upstream_error';

interface CatalogEntry {
  status: number;
  type: ErrorType;
  /** Whether a client may usefully retry the same request. */
  retryable: boolean;
}

export const ERROR_CATALOG = {
  invalid_request: { status: 400, type: 'invalid_request_error', retryable: false },
  invalid_json: { status: 400, type: 'invalid_request_error', retryable: false },
  invalid_encoding: { status: 400, type: 'invalid_request_error', retryable: false },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', retryable: false },
  request_too_large: { status: 413, type: 'invalid_request_error', retryable: false },
  invalid_api_key: { status: 401, type: 'authentication_error', retryable: false },
  too_many_auth_failures: { status: 429, type: 'rate_limit_error', retryable: true },
  /** Admin API: no valid admin credentials (token or session). */
  admin_unauthenticated: { status: 401, type: 'authentication_error', retryable: false },
  /** Admin API: the principal's role may not do this. */
  admin_forbidden: { status: 403, type: 'permission_error', retryable: false },
  /** Console session: a write without the session's `x-csrf-token`. */
  csrf_failed: { status: 403, type: 'permission_error', retryable: false },
  /** Console sign-in (OpenID Connect) that could not be completed: state, expired login, refused code or ID token. */
  signin_failed: { status: 401, type: 'authentication_error', retryable: false },
  /** Admin API: the review item was decided (or closed) already. */
  review_already_decided: { status: 409, type: 'invalid_request_error', retryable: false },
  /** Admin API: the object is declared in the deployment file, which is its only source (GitOps). */
  managed_by_file: { status: 409, type: 'invalid_request_error', retryable: false },
  /** Admin API: an object with this id exists already (create), or others still depend on it (delete). */
  conflict: { status: 409, type: 'invalid_request_error', retryable: false },
  /** Admin API: provider credentials cannot be stored because OMEGA_MASTER_KEY is not set. */
  master_key_missing: { status: 503, type: 'api_error', retryable: false },
  request_timeout: { status: 408, type: 'invalid_request_error', retryable: true },
  uri_too_long: { status: 414, type: 'invalid_request_error', retryable: false },
  headers_too_large: { status: 431, type: 'invalid_request_error', retryable: false },
  model_not_found: { status: 404, type: 'not_found_error', retryable: false },
  unknown_endpoint: { status: 404, type: 'not_found_error', retryable: false },
  /** A stored object (e.g. a Responses API response) that does not exist for this tenant. OpenAI's type for it. */
  not_found: { status: 404, type: 'invalid_request_error', retryable: false },
  too_many_connections: { status: 503, type: 'api_error', retryable: true },
  method_not_allowed: { status: 405, type: 'invalid_request_error', retryable: false },
  policy_blocked: { status: 403, type: 'permission_error', retryable: false },
  review_rejected: { status: 403, type: 'permission_error', retryable: false },
  rate_limited: { status: 429, type: 'rate_limit_error', retryable: true },
  budget_exceeded: { status: 402, type: 'insufficient_quota', retryable: false },
  provider_not_configured: { status: 503, type: 'api_error', retryable: false },
  upstream_timeout: { status: 504, type: 'upstream_error', retryable: true },
  upstream_unreachable: { status: 502, type: 'upstream_error', retryable: true },
  upstream_invalid_response: { status: 502, type: 'upstream_error', retryable: true },
  upstream_error: { status: 502, type: 'upstream_error', retryable: true },
  upstream_rate_limited: { status: 429, type: 'rate_limit_error', retryable: true },
  upstream_auth_failed: { status: 502, type: 'upstream_error', retryable: false },
  upstream_rejected: { status: 400, type: 'invalid_request_error', retryable: false },
  context_length_exceeded: { status: 400, type: 'invalid_request_error', retryable: false },
  shutting_down: { status: 503, type: 'api_error', retryable: true },
  /** redis.on_unavailable = refuse while Redis is unreachable. */
  counters_unavailable: { status: 503, type: 'api_error', retryable: true },
  /** The database is unreachable: admin reads and writes, review holds, and (storage.on_unavailable = closed) what needs it on the request path. */
  store_unavailable: { status: 503, type: 'api_error', retryable: true },
  internal_error: { status: 500, type: 'api_error', retryable: true },
} as const satisfies Record<string, CatalogEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export interface GatewayErrorOptions {
  /** The request field at fault, as OpenAI's `param`. */
  param?: string | null;
  /** Overrides the catalog status (e.g. an upstream 4xx passed through as-is). */
  status?: number;
  /** Overrides the catalog error type (e.g. the upstream's own type). */
  type?: string;
  /** Extra response headers (e.g. Retry-After). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly retryable: boolean;
  readonly param: string | null;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const entry: CatalogEntry = ERROR_CATALOG[code];
    this.name = 'GatewayError';
    this.code = code;
    this.status = options.status ?? entry.status;
    this.type = options.type ?? entry.type;
    this.retryable = entry.retryable;
    this.param = options.param ?? null;
    this.headers = options.headers;
  }
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

/** Renders any thrown value as the OpenAI error body; unknown errors say nothing of their cause. */
export function toOpenAIError(err: unknown): { status: number; body: OpenAIErrorBody } {
  const gw = asGatewayError(err);
  return {
    status: gw.status,
    body: { error: { message: gw.message, type: gw.type, param: gw.param, code: gw.code } },
  };
}

export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('internal_error', 'The gateway hit an internal error. The request id identifies it in the logs.', {
    cause: err,
  });
}
