import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { UpstreamTarget } from '../adapter.js';
import { geminiAdapter } from './index.js';

const target: UpstreamTarget = {
  providerName: 'google',
  provider: { type: 'gemini', api_key: 'AIza-secret', headers: {}, connections: 1 },
  baseUrl: 'https://generativelanguage.googleapis.com',
  upstreamModel: 'gemini-2.5-flash',
  publicModel: 'flash',
};
const gerr = (code: number, status: string, message: string, details?: object[]) => JSON.stringify({ error: { code, message, status, ...(details ? { details } : {}) } });

describe('gemini mapError', () => {
  const cases: Array<{ name: string; status: number; body: string; headers?: IncomingHttpHeaders; expected: { code: string; status: number; message: string; headers?: Record<string, string> } }> = [
    {
      name: '400 INVALID_ARGUMENT stays a 400 with Gemini’s message',
      status: 400,
      body: gerr(400, 'INVALID_ARGUMENT', '* GenerateContentRequest.generation_config.temperature: must be <= 2'),
      expected: { code: 'upstream_rejected', status: 400, message: '* GenerateContentRequest.generation_config.temperature: must be <= 2' },
    },
    {
      name: '400 API_KEY_INVALID is the gateway’s credential, not the client’s mistake',
      status: 400,
      body: gerr(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
      ]),
      expected: { code: 'upstream_auth_failed', status: 502, message: 'Provider "google" refused the gateway\'s credential (HTTP 401); an operator must fix the provider key.' },
    },
    {
      name: '403 PERMISSION_DENIED → upstream_auth_failed',
      status: 403,
      body: gerr(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers"),
      expected: { code: 'upstream_auth_failed', status: 502, message: 'Provider "google" refused the gateway\'s credential (HTTP 403); an operator must fix the provider key.' },
    },
    {
      name: '429 with RetryInfo → Retry-After from retryDelay',
      status: 429,
      body: gerr(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota.', [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '36.4s' }]),
      expected: { code: 'upstream_rate_limited', status: 429, message: 'Provider "google" is rate limiting the gateway: You exceeded your current quota.', headers: { 'retry-after': '37' } },
    },
    {
      name: '429 keeps a Retry-After header the upstream sent',
      status: 429,
      body: gerr(429, 'RESOURCE_EXHAUSTED', 'Quota', [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '5s' }]),
      headers: { 'retry-after': '12' },
      expected: { code: 'upstream_rate_limited', status: 429, message: 'Provider "google" is rate limiting the gateway: Quota', headers: { 'retry-after': '12' } },
    },
    {
      name: '503 UNAVAILABLE → upstream_error',
      status: 503,
      body: gerr(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'),
      expected: { code: 'upstream_error', status: 502, message: 'Provider "google" failed with HTTP 503 (UNAVAILABLE): The model is overloaded. Please try again later.' },
    },
    {
      name: '404 NOT_FOUND → not found',
      status: 404,
      body: gerr(404, 'NOT_FOUND', 'models/gemini-9 is not found for API version v1beta'),
      expected: { code: 'upstream_rejected', status: 404, message: 'Provider "google" does not know this model or endpoint: models/gemini-9 is not found for API version v1beta' },
    },
    {
      name: 'input over the context window → context_length_exceeded',
      status: 400,
      body: gerr(400, 'INVALID_ARGUMENT', 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).'),
      expected: { code: 'context_length_exceeded', status: 400, message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).' },
    },
    {
      name: 'a body in a JSON array (as streamGenerateContent without alt=sse answers)',
      status: 400,
      body: `[${gerr(400, 'INVALID_ARGUMENT', 'Bad things')}]`,
      expected: { code: 'upstream_rejected', status: 400, message: 'Bad things' },
    },
    {
      name: 'a non-JSON 502 from a proxy',
      status: 502,
      body: '<html>Bad Gateway</html>',
      expected: { code: 'upstream_error', status: 502, message: 'Provider "google" failed with HTTP 502 (html_error_page)' /* an HTML page is never relayed */ },
    },
  ];
  it.each(cases)('$name', ({ status, body, headers, expected }) => {
    const err = geminiAdapter.mapError(status, body, headers ?? {}, target);
    expect({ code: err.code, status: err.status, message: err.message, headers: err.headers }).toStrictEqual({ headers: undefined, ...expected });
    expect(err.message).not.toContain('AIza-secret');
  });
});

describe('gemini requestId', () => {
  it.each([
    { headers: { 'x-request-id': 'req-1' }, expected: 'req-1' },
    { headers: { 'x-request-id': ['req-2', 'req-3'] }, expected: 'req-2' },
    { headers: {}, expected: undefined },
  ])('$headers → $expected', ({ headers, expected }) => {
    expect(geminiAdapter.requestId(headers as IncomingHttpHeaders)).toBe(expected);
  });
});
