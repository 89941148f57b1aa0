import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError, type ErrorCode } from '../../errors.js';
import type { UpstreamTarget } from '../adapter.js';
import { mapUpstreamError, readErrorBody, type ProviderErrorDetails } from '../upstream-errors.js';

/**
 * Reads Anthropic's `{type:'error', error:{type, message}}`. A body of another shape (a proxy's
 * HTML page, say) falls back to the generic reader.
 */
export function readAnthropicError(body: string): ProviderErrorDetails {
  try {
    const json = JSON.parse(body) as { type?: unknown; error?: { type?: unknown; message?: unknown } };
    if (json?.type === 'error' && json.error && typeof json.error === 'object') {
      return {
        message: typeof json.error.message === 'string' ? json.error.message : undefined,
        providerCode: typeof json.error.type === 'string' ? json.error.type : undefined,
        param: null,
      };
    }
  } catch {
    // not JSON: the generic reader keeps the text
  }
  return readErrorBody(body);
}

/** HTTP errors: Anthropic's 529 (overloaded) is a 5xx like any other, so the shared mapping covers it. */
export function anthropicMapError(status: number, body: string, headers: IncomingHttpHeaders, target: UpstreamTarget): GatewayError {
  return mapUpstreamError(target.providerName, status, headers, readAnthropicError(body));
}

/** The gateway code for an error type sent inside a 200 stream, where there is no HTTP status. */
const STREAM_ERROR_CODES: Record<string, ErrorCode> = {
  overloaded_error: 'upstream_error',
  api_error: 'upstream_error',
  timeout_error: 'upstream_timeout',
  rate_limit_error: 'upstream_rate_limited',
  authentication_error: 'upstream_auth_failed',
  permission_error: 'upstream_auth_failed',
  invalid_request_error: 'upstream_rejected',
  request_too_large: 'upstream_rejected',
  not_found_error: 'upstream_rejected',
};

/** Maps the data of an `error` stream event. */
export function streamError(providerName: string, data: string): GatewayError {
  const details = readAnthropicError(data);
  const type = details.providerCode ?? 'api_error';
  const code = STREAM_ERROR_CODES[type] ?? 'upstream_error';
  // As for HTTP 401/403, an auth failure is the operator's to fix and its text is not echoed.
  const said = code !== 'upstream_auth_failed' && details.message ? `: ${details.message.slice(0, 500)}` : '';
  return new GatewayError(code, `Provider "${providerName}" failed mid-stream (${type})${said}`);
}
