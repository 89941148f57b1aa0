import { describe, it, expect } from 'vitest';
import type { IncomingHttpHeaders } from 'node:http';
import type { UpstreamTarget } from '../adapter.js';
import { anthropicAdapter } from './index.js';

const target: UpstreamTarget = {
  providerName: 'claude',
  provider: { type: 'anthropic', api_key: 'sk-ant-secret', headers: {}, connections: 128 },
  baseUrl: 'https://api.anthropic.com',
  upstreamModel: 'claude-sonnet-4-5',
  publicModel: 'sonnet',
};

const body = (type: string, message: string) => JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_011CSHoEeqs5C35K2UUqR7Fy' });

describe('anthropic mapError', () => {
  const cases: Array<{
    name: string;
    status: number;
    body: string;
    headers?: IncomingHttpHeaders;
    code: string;
    httpStatus: number;
    type: string;
    message: string;
    param?: string | null;
    outHeaders?: Record<string, string>;
  }> = [
    {
      name: '400 invalid_request_error keeps the provider message',
      status: 400,
      body: body('invalid_request_error', 'messages: roles must alternate between "user" and "assistant"'),
      code: 'upstream_rejected',
      httpStatus: 400,
      type: 'invalid_request_error',
      message: 'messages: roles must alternate between "user" and "assistant"',
      param: null,
    },
    {
      name: '400 prompt too long → context_length_exceeded',
      status: 400,
      body: body('invalid_request_error', 'prompt is too long: 210342 tokens > 200000 maximum'),
      code: 'context_length_exceeded',
      httpStatus: 400,
      type: 'invalid_request_error',
      message: 'prompt is too long: 210342 tokens > 200000 maximum',
      param: 'messages',
    },
    {
      name: '401 authentication_error hides the provider message',
      status: 401,
      body: body('authentication_error', 'invalid x-api-key'),
      code: 'upstream_auth_failed',
      httpStatus: 502,
      type: 'upstream_error',
      message: `Provider "claude" refused the gateway's credential (HTTP 401); an operator must fix the provider key.`,
    },
    {
      name: '404 not_found_error (unknown model)',
      status: 404,
      body: body('not_found_error', 'model: claude-nope'),
      code: 'upstream_rejected',
      httpStatus: 404,
      type: 'not_found_error',
      message: 'Provider "claude" does not know this model or endpoint: model: claude-nope',
    },
    {
      name: '429 rate_limit_error passes retry-after on',
      status: 429,
      body: body('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit'),
      headers: { 'retry-after': '17' },
      code: 'upstream_rate_limited',
      httpStatus: 429,
      type: 'rate_limit_error',
      message: 'Provider "claude" is rate limiting the gateway: Number of request tokens has exceeded your per-minute rate limit',
      outHeaders: { 'retry-after': '17' },
    },
    {
      name: '500 api_error',
      status: 500,
      body: body('api_error', 'Internal server error'),
      code: 'upstream_error',
      httpStatus: 502,
      type: 'upstream_error',
      message: 'Provider "claude" failed with HTTP 500 (api_error): Internal server error',
    },
    {
      name: '529 overloaded_error is a retryable upstream failure',
      status: 529,
      body: body('overloaded_error', 'Overloaded'),
      code: 'upstream_error',
      httpStatus: 502,
      type: 'upstream_error',
      message: 'Provider "claude" failed with HTTP 529 (overloaded_error): Overloaded',
    },
    {
      name: 'a non-JSON body (a proxy page) is read as text',
      status: 503,
      body: 'upstream connect error',
      code: 'upstream_error',
      httpStatus: 502,
      type: 'upstream_error',
      message: 'Provider "claude" failed with HTTP 503: upstream connect error',
    },
  ];

  it.each(cases)('$name', (c) => {
    const err = anthropicAdapter.mapError(c.status, c.body, c.headers ?? {}, target);
    expect(err.code).toBe(c.code);
    expect(err.status).toBe(c.httpStatus);
    expect(err.type).toBe(c.type);
    expect(err.message).toBe(c.message);
    if (c.param !== undefined) expect(err.param).toBe(c.param);
    expect(err.headers).toEqual(c.outHeaders);
    expect(err.message).not.toContain('sk-ant-secret');
  });

  it('marks 529 and 429 retryable, 400 and 401 not', () => {
    const retryable = [529, 429, 400, 401].map((s) => anthropicAdapter.mapError(s, body('x', 'y'), {}, target).retryable);
    expect(retryable).toEqual([true, true, false, false]);
  });
});

describe('anthropic requestId', () => {
  it.each<[IncomingHttpHeaders, string | undefined]>([
    [{ 'request-id': 'req_018EeWyXxfu5pfWkrYcMdjWG' }, 'req_018EeWyXxfu5pfWkrYcMdjWG'],
    [{ 'request-id': ['req_a', 'req_b'] }, 'req_a'],
    [{ 'x-request-id': 'other' }, undefined],
  ])('%j → %s', (headers, id) => {
    expect(anthropicAdapter.requestId(headers)).toBe(id);
  });
});
