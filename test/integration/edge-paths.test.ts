/**
 * One path, one decision: whatever the spelling of a path, the request the router serves is the
 * request that was authenticated; everything else is a 404 (or the HTTP layer's 400/414/431) in
 * the OpenAI shape with the x-omega-* headers and exactly one audit record. Then a shutdown
 * after such requests ends in time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { baseConfig, startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';

let upstream: FakeOpenAI;
let gw: TestGateway;

const BODY = JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
const JSON_HEADERS = { 'content-type': 'application/json' };

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  const yaml = baseConfig(upstream.baseUrl).replace('server:\n', 'server:\n  shutdown_grace: 300ms\n  auth_throttle: { audit_sample: 1000, max_failures: 1000 }\n');
  gw = await startTestGateway(yaml);
});
afterAll(async () => {
  await gw?.stop().catch(() => undefined);
  await upstream?.close();
});

/** The response is a catalog error in the OpenAI shape with the gateway's headers, audited once. */
async function expectAuditedError(res: RawResponse, status: number, code: string): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(JSON.parse(res.body)).toEqual({ error: { message: expect.any(String), type: expect.any(String), param: null, code } });
  const decision = res.headers['x-omega-decision-id']!;
  expect(decision).toMatch(/^dec_[0-9a-f]{32}$/);
  expect(res.headers['x-request-id']).toMatch(/\S/);
  expect(res.headers['x-omega-policy-outcome']).toBe('BLOCK');
  expect(res.headers['x-omega-latency-ms']).toMatch(/^\d+\.\d\d$/);
  const records = (await gw.auditRecords()).filter((r) => r.decision_id === decision);
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ http_status: status, error_code: code, tenant_id: null });
  return records[0] as unknown as Record<string, unknown>;
}

const VARIANTS = [
  '/%76%31/chat/completions',
  '/v1//chat/completions',
  '//v1//chat/completions',
  '/v1/./chat/completions',
  '/V1/Chat/Completions',
  '/v1/../v1/chat/completions',
  '/v1/%2e%2e/v1/chat/completions',
  '/%2e/v1/chat/completions',
];

describe('path variants of /v1/chat/completions', () => {
  it.each(VARIANTS)('%s without a key: 401 in the OpenAI shape, headers, one audit record', async (path) => {
    const before = upstream.requests.length;
    const res = await rawRequest(gw.url, 'POST', path, JSON_HEADERS, BODY);
    const record = await expectAuditedError(res, 401, 'invalid_api_key');
    expect(record.endpoint).toBe('/v1/chat/completions');
    expect(upstream.requests.length).toBe(before);
  });

  it.each(VARIANTS)('%s with a key is served, as the same endpoint', async (path) => {
    const res = await rawRequest(gw.url, 'POST', path, { ...JSON_HEADERS, authorization: `Bearer ${TENANT_KEY}` }, BODY);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).choices[0].message.content).toBe('Echo: hi');
    const record = await gw.auditRecord(res.headers['x-omega-decision-id']!);
    expect(record).toMatchObject({ endpoint: '/v1/chat/completions', tenant_id: 'acme', http_status: 200 });
  });
});

describe('everything else', () => {
  it.each(['/v1/chat%2Fcompletions', '/v2/chat/completions', '/v1/chat/completions/extra', '/', '/../../etc/passwd', '/admin%2Freviews'])(
    '%s is a 404 unknown_endpoint with headers and one audit record',
    async (path) => {
      const res = await rawRequest(gw.url, 'POST', path, { ...JSON_HEADERS, authorization: `Bearer ${TENANT_KEY}` }, BODY);
      await expectAuditedError(res, 404, 'unknown_endpoint');
    },
  );

  it('a malformed percent-encoding is refused in the OpenAI shape and audited', async () => {
    for (const path of ['/v1/chat/completions%zz%', '/v1/%E0%A4%A', '/v1/models/%ff']) {
      const res = await rawRequest(gw.url, 'POST', path, JSON_HEADERS, BODY);
      await expectAuditedError(res, 400, 'invalid_request');
    }
  });

  it('a URL over server.max_url_length is a 414, audited', async () => {
    const res = await rawRequest(gw.url, 'POST', `/v1/chat/completions?${'a'.repeat(10_000)}`, JSON_HEADERS, BODY);
    await expectAuditedError(res, 414, 'uri_too_long');
  });

  it("a request line over Node's header limit is a 431 from the HTTP layer, audited", async () => {
    const res = await rawRequest(gw.url, 'GET', `/v1/${'a'.repeat(20_000)}`);
    const record = await expectAuditedError(res, 431, 'headers_too_large');
    expect(record.endpoint).toBe('(unparsed)');
  });

  it('a request that is not HTTP is a 400 from the HTTP layer, audited', async () => {
    const res = await rawRequest(gw.url, 'GET /\u0000 HTTP/1.1', '');
    await expectAuditedError(res, 400, 'invalid_request');
  });
});

describe('shutdown after such requests', () => {
  it('ends within its grace plus the bound, flushes the audit, and a stream it cuts says so', async () => {
    for (const path of VARIANTS) await rawRequest(gw.url, 'POST', path, JSON_HEADERS, BODY);
    const stream = await gw.client().chat.completions.create({ model: 'gpt-test', stream: true, messages: [{ role: 'user', content: 'cut [gate]' }] }).withResponse();
    const decision = stream.response.headers.get('x-omega-decision-id')!;
    const chunks: unknown[] = [];
    const reading = (async () => {
      try {
        for await (const chunk of stream.data) chunks.push(chunk);
      } catch (err) {
        return err as Error;
      }
      return undefined;
    })();
    await new Promise((r) => setTimeout(r, 100));

    const started = Date.now();
    await gw.close();
    // shutdown_grace (300 ms) plus the abort and close bounds (5 s each), with room for a busy machine.
    expect(Date.now() - started).toBeLessThan(300 + 10_000);
    const err = await reading;
    expect(err?.message ?? '').toMatch(/shutting down/);
    upstream.release();

    const { default: Database } = await import('better-sqlite3');
    const db = new Database(`${gw.dir}/omega.db`, { readonly: true });
    const rows = db.prepare('select record from audit_records where decision_id = ?').all(decision) as { record: string }[];
    db.close();
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]!.record)).toMatchObject({
      stream_interrupted: true,
      client_disconnected: false,
      upstream_error: 'aborted by gateway shutdown',
      error_code: 'shutting_down',
    });
  });
});
