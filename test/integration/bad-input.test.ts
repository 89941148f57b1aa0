/**
 * Bad input and failing upstreams: each gets a clear OpenAI-shaped error with the right status,
 * the x-omega headers, and exactly one audit record.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { baseConfig, startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';

let upstream: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  gw = await startTestGateway(baseConfig(upstream.baseUrl));
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

interface Case {
  name: string;
  path?: string;
  method?: 'POST' | 'GET' | 'PUT';
  headers?: Record<string, string>;
  body?: string | Buffer;
  status: number;
  code: string;
  param?: string | null;
  message?: RegExp;
}

const chat = (o: object) => JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }], ...o });

const cases: Case[] = [
  { name: 'missing key', headers: { authorization: '' }, body: chat({}), status: 401, code: 'invalid_api_key', message: /Missing API key/ },
  { name: 'unknown key', headers: { authorization: 'Bearer omk_nope_nope_nope_nope_nope' }, body: chat({}), status: 401, code: 'invalid_api_key' },
  { name: 'malformed JSON', body: '{"model": "gpt-test", ', status: 400, code: 'invalid_json', message: /not valid JSON/ },
  { name: 'empty body', body: '', status: 400, code: 'invalid_json' },
  { name: 'JSON that is not an object', body: '[1,2]', status: 400, code: 'invalid_request', message: /JSON object/ },
  { name: 'wrong content type', headers: { 'content-type': 'text/plain' }, body: chat({}), status: 415, code: 'unsupported_media_type' },
  { name: 'body over the limit', body: chat({ messages: [{ role: 'user', content: 'x'.repeat(70_000) }] }), status: 413, code: 'request_too_large' },
  { name: 'missing model', body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }), status: 400, code: 'invalid_request', param: 'model' },
  { name: 'missing messages', body: JSON.stringify({ model: 'gpt-test' }), status: 400, code: 'invalid_request', param: 'messages' },
  { name: 'empty messages', body: chat({ messages: [] }), status: 400, code: 'invalid_request', param: 'messages' },
  { name: 'model of the wrong type', body: chat({ model: 42 }), status: 400, code: 'invalid_request', param: 'model' },
  { name: 'bad role', body: chat({ messages: [{ role: 'wizard', content: 'hi' }] }), status: 400, code: 'invalid_request', param: 'messages[0].role' },
  { name: 'bad content type', body: chat({ messages: [{ role: 'user', content: 7 }] }), status: 400, code: 'invalid_request', param: 'messages[0].content' },
  { name: 'stream not boolean', body: chat({ stream: 'yes' }), status: 400, code: 'invalid_request', param: 'stream' },
  { name: 'max_tokens negative', body: chat({ max_tokens: -1 }), status: 400, code: 'invalid_request', param: 'max_tokens' },
  { name: 'temperature as string', body: chat({ temperature: 'hot' }), status: 400, code: 'invalid_request', param: 'temperature' },
  { name: 'invalid UTF-8', body: Buffer.concat([Buffer.from('{"model":"gpt-test","messages":[{"role":"user","content":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]), status: 400, code: 'invalid_encoding' },
  { name: 'unknown model', body: chat({ model: 'gpt-9000' }), status: 404, code: 'model_not_found', param: 'model' },
  { name: 'embeddings model on chat', body: chat({ model: 'embed-test' }), status: 400, code: 'invalid_request', param: 'model' },
  { name: 'unknown endpoint', path: '/v1/nothing-here', body: chat({}), status: 404, code: 'unknown_endpoint' },
  { name: 'wrong method', method: 'GET', path: '/v1/chat/completions', body: undefined, status: 404, code: 'unknown_endpoint' },
  { name: 'provider without credential', body: chat({ model: 'keyless-model' }), status: 503, code: 'provider_not_configured', message: /UNSET_PROVIDER_KEY/ },
  { name: 'upstream refuses the connection', body: chat({ model: 'dead-model' }), status: 502, code: 'upstream_unreachable', message: /ECONNREFUSED/ },
  { name: 'upstream times out', body: chat({ messages: [{ role: 'user', content: '[slow:2500]' }] }), status: 504, code: 'upstream_timeout' },
  { name: 'upstream returns HTML', body: chat({ messages: [{ role: 'user', content: '[nonjson]' }] }), status: 502, code: 'upstream_invalid_response' },
  { name: 'upstream 500', body: chat({ messages: [{ role: 'user', content: '[error:500]' }] }), status: 502, code: 'upstream_error', message: /HTTP 500/ },
  { name: 'upstream 429', body: chat({ messages: [{ role: 'user', content: '[error:429]' }] }), status: 429, code: 'upstream_rate_limited' },
  { name: 'upstream 400 passes its message through', body: chat({ messages: [{ role: 'user', content: '[error:400]' }] }), status: 400, code: 'upstream_rejected', message: /Fake upstream error 400/ },
  { name: 'stream: upstream 500 before any byte', body: chat({ stream: true, messages: [{ role: 'user', content: '[error:500]' }] }), status: 502, code: 'upstream_error' },
];

describe('bad input and failing upstreams', () => {
  it.each(cases)('$name → $status $code', async (c) => {
    const headers: Record<string, string> = { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json', ...c.headers };
    if (headers.authorization === '') delete headers.authorization;
    const before = (await gw.auditRecords()).length;
    const res = await request(`${gw.url}${c.path ?? '/v1/chat/completions'}`, { method: c.method ?? 'POST', headers, body: c.body });
    const json = (await res.body.json()) as { error: { message: string; type: string; param: string | null; code: string } };

    expect(res.statusCode).toBe(c.status);
    expect(Object.keys(json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(json.error.code).toBe(c.code);
    expect(json.error.message.length).toBeGreaterThan(10);
    if (c.param !== undefined) expect(json.error.param).toBe(c.param);
    if (c.message) expect(json.error.message).toMatch(c.message);
    expect(json.error.message).not.toContain('sk-upstream-test-key');

    const decisionId = res.headers['x-omega-decision-id'] as string;
    expect(decisionId).toMatch(/^dec_/);
    for (const h of ['x-omega-risk-score', 'x-omega-policy-outcome', 'x-omega-cost-usd', 'x-omega-latency-ms', 'x-request-id']) {
      expect(res.headers[h], h).toBeDefined();
    }

    const records = await gw.auditRecords();
    expect(records.length).toBe(before + 1);
    const record = records.find((r) => r.decision_id === decisionId)!;
    expect(record).toMatchObject({ http_status: c.status, error_code: c.code });
    const forwarded = c.code.startsWith('upstream_');
    expect(record.policy_outcome).toBe(forwarded ? 'ALLOW' : 'BLOCK');
  });

  it('answers 429 with the upstream Retry-After', async () => {
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
      body: chat({ messages: [{ role: 'user', content: '[error:429]' }] }),
    });
    await res.body.dump();
    expect(res.headers['retry-after']).toBe('1');
  });

  it('keeps an unauthenticated caller’s record without a tenant', async () => {
    const res = await request(`${gw.url}/v1/models`, { headers: { authorization: 'Bearer omk_wrong_wrong_wrong_wrong' } });
    await res.body.dump();
    const record = await gw.auditRecord(res.headers['x-omega-decision-id'] as string);
    expect(record).toMatchObject({ tenant_id: null, http_status: 401, endpoint: '/v1/models' });
  });
});
