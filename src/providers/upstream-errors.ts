/**
 * One mapping from a provider's HTTP error to the gateway's catalog, shared by every adapter so
 * that all providers fail the same way: the client sees the provider's own message for its
 * own mistakes (4xx), and a neutral message for the gateway's (bad provider credential) or the
 * provider's (5xx). Provider credentials never appear in a message.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../errors.js';

export interface ProviderErrorDetails {
  /** The provider's own message, if its body had one. */
  message?: string | undefined;
  /** The provider's error type or code, e.g. `invalid_request_error`, `RESOURCE_EXHAUSTED`. */
  providerCode?: string | undefined;
  /** The request field at fault, when the provider names it. */
  param?: string | null | undefined;
}

const HTML = /^<(?:!doctype|html|head|body|\?xml|[a-z]+[\s>])/i;
const PROVIDER_CODE = /^[A-Za-z0-9_.-]{1,64}$/;
const CONTEXT_LENGTH = /context[_ ]length|too many tokens|maximum context|prompt is too long|input.*too long/i;

/**
 * Maps a provider's non-2xx answer. `details` is what the adapter could read from the body.
 *
 * @example mapUpstreamError('anthropic', 429, headers, { message: 'rate limited' })
 */
export function mapUpstreamError(
  providerName: string,
  status: number,
  headers: IncomingHttpHeaders,
  details: ProviderErrorDetails,
): GatewayError {
  const said = details.message ? `: ${truncate(details.message)}` : '';
  // The provider's own error type, when it is a plain identifier (it is the provider's text too).
  const kind = details.providerCode && PROVIDER_CODE.test(details.providerCode) ? ` (${details.providerCode})` : '';
  const retryAfter = headerValue(headers['retry-after']);
  if (status === 429) {
    return new GatewayError('upstream_rate_limited', `Provider "${providerName}" is rate limiting the gateway${said}`, {
      headers: retryAfter ? { 'retry-after': retryAfter } : undefined,
    });
  }
  if (status === 401 || status === 403) {
    // The client's key is fine; the gateway's provider credential is not. Never echo it.
    return new GatewayError('upstream_auth_failed', `Provider "${providerName}" refused the gateway's credential (HTTP ${status}); an operator must fix the provider key.`);
  }
  if (status === 408 || status === 504) {
    return new GatewayError('upstream_timeout', `Provider "${providerName}" timed out (HTTP ${status})${kind}${said}`);
  }
  if (status >= 500) {
    return new GatewayError('upstream_error', `Provider "${providerName}" failed with HTTP ${status}${kind}${said}`);
  }
  if (status === 404) {
    return new GatewayError('upstream_rejected', `Provider "${providerName}" does not know this model or endpoint${said}`, {
      status: 404,
      type: 'not_found_error',
    });
  }
  const message = details.message ?? `Provider "${providerName}" rejected the request (HTTP ${status})${kind}`;
  if (CONTEXT_LENGTH.test(message) || details.providerCode === 'context_length_exceeded') {
    return new GatewayError('context_length_exceeded', truncate(message), { param: details.param ?? 'messages' });
  }
  return new GatewayError('upstream_rejected', truncate(message), { status: status >= 400 && status < 500 ? status : 400, param: details.param ?? null });
}

/** Reads `{error:{message,type,code,param}}`, `{error:"…"}`, `{message:"…"}` and the like. */
export function readErrorBody(body: string): ProviderErrorDetails {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const text = body.trim();
    // An HTML page (a proxy's or load balancer's) says nothing a client can use, and may echo headers.
    if (HTML.test(text)) return { message: undefined, providerCode: 'html_error_page' };
    return { message: text ? truncate(text) : undefined };
  }
  const root = (Array.isArray(json) ? json[0] : json) as Record<string, unknown> | undefined;
  const err = (root?.error ?? root) as Record<string, unknown> | string | undefined;
  if (typeof err === 'string') return { message: err };
  if (!err || typeof err !== 'object') return {};
  const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
  return {
    message: str(err.message) ?? str(root?.message),
    providerCode: str(err.code) ?? str(err.type) ?? str(err.status),
    param: str(err.param) ?? null,
  };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function truncate(s: string, max = 500): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
