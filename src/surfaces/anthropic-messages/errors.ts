/**
 * The gateway's error catalog in Anthropic's shape, `{"type":"error","error":{"type","message"}}`,
 * with Anthropic's error types so that its SDK raises the matching class. The HTTP status stays
 * the catalog's (the same refusal has the same status on every surface), except an overloaded
 * upstream, which is 529 as Anthropic itself answers.
 */
import { asGatewayError, type ErrorCode, type GatewayError } from '../../errors.js';

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
  /** Anthropic's own responses carry one; the gateway puts the id its logs and audit know. */
  request_id?: string;
}

type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'billing_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'api_error'
  | 'overloaded_error';

/** Every catalog code: a new code fails to compile here until it is given an Anthropic type. */
const TYPES = {
  invalid_request: 'invalid_request_error',
  invalid_json: 'invalid_request_error',
  invalid_encoding: 'invalid_request_error',
  unsupported_media_type: 'invalid_request_error',
  request_too_large: 'request_too_large',
  invalid_api_key: 'authentication_error',
  model_not_found: 'not_found_error',
  not_found: 'not_found_error',
  too_many_auth_failures: 'rate_limit_error',
  request_timeout: 'invalid_request_error',
  uri_too_long: 'invalid_request_error',
  headers_too_large: 'invalid_request_error',
  too_many_connections: 'overloaded_error',
  unknown_endpoint: 'not_found_error',
  method_not_allowed: 'invalid_request_error',
  policy_blocked: 'permission_error',
  review_rejected: 'permission_error',
  rate_limited: 'rate_limit_error',
  budget_exceeded: 'billing_error',
  provider_not_configured: 'api_error',
  upstream_timeout: 'timeout_error',
  upstream_unreachable: 'api_error',
  upstream_invalid_response: 'api_error',
  upstream_error: 'api_error',
  upstream_rate_limited: 'rate_limit_error',
  // The gateway's provider credential failed, not the client's key: not an authentication_error.
  upstream_auth_failed: 'api_error',
  upstream_rejected: 'invalid_request_error',
  context_length_exceeded: 'invalid_request_error',
  shutting_down: 'overloaded_error',
  counters_unavailable: 'overloaded_error',
  store_unavailable: 'overloaded_error',
  internal_error: 'api_error',
  // Admin API codes: never rendered on /v1/messages, mapped for completeness.
  admin_unauthenticated: 'authentication_error',
  admin_forbidden: 'permission_error',
  review_already_decided: 'invalid_request_error',
  csrf_failed: 'permission_error',
  signin_failed: 'authentication_error',
  managed_by_file: 'invalid_request_error',
  conflict: 'invalid_request_error',
  master_key_missing: 'api_error',
} as const satisfies Record<ErrorCode, AnthropicErrorType>;

/** Statuses of an upstream's refusal passed through (upstream_rejected keeps the provider's status). */
const BY_STATUS: Record<number, AnthropicErrorType> = {
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
};

/** What upstream-errors.ts and the Anthropic stream mapping write when a provider said it is overloaded. */
const OVERLOADED = /\bHTTP 529\b|\boverloaded_error\b/;

/**
 * @example renderError(new GatewayError('policy_blocked', 'Blocked by rule no-secrets'))
 * // { status: 403, body: { type: 'error', error: { type: 'permission_error', message: 'Blocked by rule no-secrets' } } }
 */
export function renderError(err: unknown, options: { requestId?: string } = {}): { status: number; body: AnthropicErrorBody } {
  const gw = asGatewayError(err);
  let status = gw.status;
  let type: AnthropicErrorType = TYPES[gw.code];
  if (gw.code === 'upstream_rejected' || gw.code === 'budget_exceeded') type = BY_STATUS[status] ?? type;
  if (gw.code === 'upstream_error' && OVERLOADED.test(gw.message)) {
    status = 529;
    type = 'overloaded_error';
  }
  const body: AnthropicErrorBody = { type: 'error', error: { type, message: withParam(gw) } };
  if (options.requestId) body.request_id = options.requestId;
  return { status, body };
}

/** Anthropic has no `param` field; its own messages lead with the field (`max_tokens: …`). */
function withParam(err: GatewayError): string {
  if (!err.param || err.message.includes(err.param)) return err.message;
  return `${err.param}: ${err.message}`;
}
