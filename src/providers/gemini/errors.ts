/**
 * Gemini errors are Google RPC statuses: `{"error":{"code":429,"message":"…","status":
 * "RESOURCE_EXHAUSTED","details":[…]}}`. Two details matter to the gateway: `RetryInfo`
 * (Gemini's retry hint, usually sent without a Retry-After header) and `ErrorInfo` with reason
 * API_KEY_INVALID (a bad gateway credential that Gemini reports as a 400, not a 401).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { GatewayError } from '../../errors.js';
import type { UpstreamTarget } from '../adapter.js';
import { mapUpstreamError, readErrorBody } from '../upstream-errors.js';
import { isObject } from './wire.js';

const CONTEXT_OVERFLOW = /input token count.*exceeds the maximum/i;

export function geminiMapError(status: number, body: string, headers: IncomingHttpHeaders, target: UpstreamTarget): GatewayError {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return mapUpstreamError(target.providerName, status, headers, readErrorBody(body));
  }
  return mapGeminiStatus(target, status, (Array.isArray(json) ? json[0] : json) as unknown, headers);
}

/** Also used for an error object that arrives inside a 200 event stream. */
export function mapGeminiStatus(target: UpstreamTarget, status: number, root: unknown, headers: IncomingHttpHeaders = {}): GatewayError {
  const err = isObject(root) && isObject(root.error) ? root.error : {};
  const message = typeof err.message === 'string' ? err.message : undefined;
  const rpcStatus = typeof err.status === 'string' ? err.status : undefined;
  const details = Array.isArray(err.details) ? err.details.filter(isObject) : [];

  if (details.some((d) => d.reason === 'API_KEY_INVALID')) {
    // The client cannot fix the gateway's key, and must not learn about it: treat as a 401.
    return mapUpstreamError(target.providerName, 401, headers, {});
  }
  let effectiveHeaders = headers;
  const delay = details.find((d) => typeof d.retryDelay === 'string')?.retryDelay as string | undefined;
  const seconds = delay ? /^(\d+(?:\.\d+)?)s$/.exec(delay)?.[1] : undefined;
  if (status === 429 && seconds && headers['retry-after'] === undefined) {
    effectiveHeaders = { ...headers, 'retry-after': String(Math.ceil(Number(seconds))) };
  }
  const providerCode = message && CONTEXT_OVERFLOW.test(message) ? 'context_length_exceeded' : rpcStatus;
  return mapUpstreamError(target.providerName, status, effectiveHeaders, { message, providerCode, param: null });
}
