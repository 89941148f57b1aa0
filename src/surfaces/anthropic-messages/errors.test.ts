import { describe, it, expect } from 'vitest';
import { ERROR_CATALOG, GatewayError, type ErrorCode } from '../../errors.js';
import { streamError } from '../../providers/anthropic/errors.js';
import { mapUpstreamError } from '../../providers/upstream-errors.js';
import { renderError } from './errors.js';

describe('renderError: every catalog code in Anthropic shape', () => {
  const expected: Record<ErrorCode, [number, string]> = {
    invalid_request: [400, 'invalid_request_error'],
    invalid_json: [400, 'invalid_request_error'],
    invalid_encoding: [400, 'invalid_request_error'],
    unsupported_media_type: [415, 'invalid_request_error'],
    request_too_large: [413, 'request_too_large'],
    invalid_api_key: [401, 'authentication_error'],
    model_not_found: [404, 'not_found_error'],
    not_found: [404, 'not_found_error'],
    too_many_auth_failures: [429, 'rate_limit_error'],
    admin_unauthenticated: [401, 'authentication_error'],
    admin_forbidden: [403, 'permission_error'],
    csrf_failed: [403, 'permission_error'],
    signin_failed: [401, 'authentication_error'],
    review_already_decided: [409, 'invalid_request_error'],
    managed_by_file: [409, 'invalid_request_error'],
    conflict: [409, 'invalid_request_error'],
    master_key_missing: [503, 'api_error'],
    request_timeout: [408, 'invalid_request_error'],
    uri_too_long: [414, 'invalid_request_error'],
    headers_too_large: [431, 'invalid_request_error'],
    too_many_connections: [503, 'overloaded_error'],
    unknown_endpoint: [404, 'not_found_error'],
    method_not_allowed: [405, 'invalid_request_error'],
    policy_blocked: [403, 'permission_error'],
    review_rejected: [403, 'permission_error'],
    rate_limited: [429, 'rate_limit_error'],
    budget_exceeded: [402, 'billing_error'],
    provider_not_configured: [503, 'api_error'],
    upstream_timeout: [504, 'timeout_error'],
    upstream_unreachable: [502, 'api_error'],
    upstream_invalid_response: [502, 'api_error'],
    upstream_error: [502, 'api_error'],
    upstream_rate_limited: [429, 'rate_limit_error'],
    upstream_auth_failed: [502, 'api_error'],
    upstream_rejected: [400, 'invalid_request_error'],
    context_length_exceeded: [400, 'invalid_request_error'],
    shutting_down: [503, 'overloaded_error'],
    counters_unavailable: [503, 'overloaded_error'],
    store_unavailable: [503, 'overloaded_error'],
    internal_error: [500, 'api_error'],
  };
  it.each(Object.keys(ERROR_CATALOG) as ErrorCode[])('%s', (code) => {
    const { status, body } = renderError(new GatewayError(code, 'Something happened.'));
    expect([status, body.error.type]).toEqual(expected[code]);
    expect(body).toEqual({ type: 'error', error: { type: expected[code][1], message: 'Something happened.' } });
  });
});

describe('renderError: special cases', () => {
  it('an overloaded upstream is 529 overloaded_error, over HTTP and mid-stream', () => {
    const http = mapUpstreamError('claude', 529, {}, { message: 'Overloaded' });
    expect(renderError(http)).toMatchObject({ status: 529, body: { error: { type: 'overloaded_error' } } });
    const stream = streamError('claude', JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
    expect(renderError(stream)).toMatchObject({ status: 529, body: { error: { type: 'overloaded_error' } } });
    expect(renderError(mapUpstreamError('claude', 500, {}, {}))).toMatchObject({ status: 502, body: { error: { type: 'api_error' } } });
  });

  it("an upstream's refusal keeps its status and gets the matching type", () => {
    expect(renderError(mapUpstreamError('p', 404, {}, { message: 'no such model' }))).toMatchObject({ status: 404, body: { error: { type: 'not_found_error' } } });
    expect(renderError(mapUpstreamError('p', 413, {}, { message: 'too big' }))).toMatchObject({ status: 413, body: { error: { type: 'request_too_large' } } });
    expect(renderError(mapUpstreamError('p', 422, {}, { message: 'bad' }))).toMatchObject({ status: 422, body: { error: { type: 'invalid_request_error' } } });
  });

  it('a budget refusal sent as 429 is a rate_limit_error', () => {
    expect(renderError(new GatewayError('budget_exceeded', 'Budget spent', { status: 429 }))).toMatchObject({ status: 429, body: { error: { type: 'rate_limit_error' } } });
  });

  it('the field at fault leads the message, as in Anthropic errors; a request id may be added', () => {
    expect(renderError(new GatewayError('invalid_request', 'must be a positive integer.', { param: 'max_tokens' }), { requestId: 'dec_1' }).body).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'max_tokens: must be a positive integer.' },
      request_id: 'dec_1',
    });
    expect(renderError(new GatewayError('invalid_request', 'max_tokens must be set.', { param: 'max_tokens' })).body.error.message).toBe('max_tokens must be set.');
  });

  it('an unknown error is a 500 that says nothing of its cause', () => {
    const { status, body } = renderError(new Error('db password is hunter2'));
    expect(status).toBe(500);
    expect(body.error.type).toBe('api_error');
    expect(JSON.stringify(body)).not.toContain('hunter2');
  });
});
