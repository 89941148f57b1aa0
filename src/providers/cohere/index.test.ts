import { describe, expect, it } from 'vitest';
import type { UpstreamTarget } from '../adapter.js';
import { cohereAdapter } from './index.js';

const target: UpstreamTarget = {
  providerName: 'cohere',
  provider: { type: 'cohere', api_key: 'co-secret', headers: {}, connections: 128 },
  baseUrl: 'https://api.cohere.com',
  upstreamModel: 'command-a-03-2025',
  publicModel: 'command-a',
};

describe('cohereAdapter.mapError', () => {
  it.each([
    {
      status: 400,
      body: '{"id":"e1","message":"invalid request: message must not be empty in a turn"}',
      headers: {},
      want: { code: 'upstream_rejected', status: 400, message: 'invalid request: message must not be empty in a turn' },
    },
    {
      status: 400,
      body: '{"message":"too many tokens: total number of tokens in the prompt cannot exceed 128000 - received 130000."}',
      headers: {},
      want: { code: 'context_length_exceeded', status: 400, param: 'messages' },
    },
    {
      status: 401,
      body: '{"message":"invalid api token"}',
      headers: {},
      want: { code: 'upstream_auth_failed', status: 502 },
    },
    {
      status: 402,
      body: '{"message":"Please add or update your payment method"}',
      headers: {},
      want: { code: 'upstream_auth_failed', status: 502 },
    },
    {
      status: 404,
      body: '{"message":"model \'nope\' not found"}',
      headers: {},
      want: { code: 'upstream_rejected', status: 404, type: 'not_found_error' },
    },
    {
      status: 429,
      body: '{"message":"You are past the per minute request limit, please wait and try again later."}',
      headers: { 'retry-after': '7' },
      want: {
        code: 'upstream_rate_limited',
        status: 429,
        headers: { 'retry-after': '7' },
        message: 'Provider "cohere" is rate limiting the gateway: You are past the per minute request limit, please wait and try again later.',
      },
    },
    {
      status: 499,
      body: '{"message":"request cancelled"}',
      headers: {},
      want: { code: 'upstream_error', status: 502, retryable: true, message: 'Provider "cohere" cancelled the request (HTTP 499): request cancelled' },
    },
    {
      status: 500,
      body: '{"message":"internal server error"}',
      headers: {},
      want: { code: 'upstream_error', status: 502, message: 'Provider "cohere" failed with HTTP 500: internal server error' },
    },
    {
      status: 503,
      body: '<html>Service Unavailable</html>',
      headers: {},
      want: { code: 'upstream_error', status: 502, message: 'Provider "cohere" failed with HTTP 503 (html_error_page)' /* an HTML page is never relayed */ },
    },
  ])('HTTP $status', ({ status, body, headers, want }) => {
    const err = cohereAdapter.mapError(status, body, headers, target);
    expect(err).toMatchObject(want);
    expect(err.message).not.toContain('co-secret');
  });
});

describe('cohereAdapter.requestId', () => {
  it('reads x-request-id', () => {
    expect(cohereAdapter.requestId({ 'x-request-id': 'req-1' })).toBe('req-1');
    expect(cohereAdapter.requestId({ 'x-request-id': ['a', 'b'] })).toBe('a');
    expect(cohereAdapter.requestId({})).toBeUndefined();
  });
});

describe('cohereAdapter wiring', () => {
  it('exposes chat, stream and embeddings', () => {
    expect(cohereAdapter.chatRequest({ model: 'x', messages: [{ role: 'user', content: 'Hi' }] }, target).url).toBe('https://api.cohere.com/v2/chat');
    expect(cohereAdapter.chatStream(target).push({ data: '{"type":"message-start","id":"m"}' })).toHaveLength(1);
    expect(cohereAdapter.embeddingsRequest!({ model: 'x', input: 'a' }, target).url).toBe('https://api.cohere.com/v2/embed');
    expect(cohereAdapter.chatResponse({ id: 'r', finish_reason: 'COMPLETE', message: { content: [] } }, target).created).toBeGreaterThan(1_700_000_000);
  });
});
