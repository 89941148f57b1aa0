/**
 * Brute force: failed authentication is throttled per client IP and per key prefix, on /v1 and
 * on admin tokens alike (429 too_many_auth_failures with Retry-After); unauthenticated refusals
 * are all counted but only sampled into the audit. Client IPs come from X-Forwarded-For
 * (trust_proxy), so each case is its own client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { baseConfig, startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/requests.js';

const ADMIN = 'admin-token-for-throttle-tests-0123456789';
let upstream: FakeOpenAI;
let gw: TestGateway;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  const server = 'server:\n  trust_proxy: true\n  auth_throttle: { max_failures: 3, window: 1m, block: 30s, audit_sample: 2, audit_interval: 1s }\n';
  gw = await startTestGateway(baseConfig(upstream.baseUrl, `admin: { tokens: [ { id: ops, token: "${ADMIN}" } ] }\n`).replace('server:\n', server));
});
afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

async function chat(ip: string, key: string | null): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-forwarded-for': ip };
  if (key) headers.authorization = `Bearer ${key}`;
  return fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] }) });
}

async function admin(ip: string, path: string, token: string): Promise<Response> {
  return fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': ip } });
}

async function refusalCount(code: string): Promise<number> {
  const text = await (await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}`, 'x-forwarded-for': '10.9.9.9' } })).text();
  return Number(new RegExp(`omega_auth_refusals_total\\{code="${code}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
}

describe('auth throttle', () => {
  it('per client IP: after max_failures wrong keys, 429 with Retry-After, even for a right key', async () => {
    for (let i = 0; i < 3; i++) expect((await chat('10.0.0.1', `omk_guess_${i}_abcdefghijklmnop`)).status).toBe(401);
    const blocked = await chat('10.0.0.1', `omk_guess_9_abcdefghijklmnop`);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(30);
    expect(blocked.headers.get('x-omega-decision-id')).toMatch(/^dec_/);
    expect(await blocked.json()).toMatchObject({ error: { code: 'too_many_auth_failures', type: 'rate_limit_error' } });
    // A right key from the blocked address learns nothing either.
    expect((await chat('10.0.0.1', TENANT_KEY)).status).toBe(429);
    // Other clients are not affected.
    expect((await chat('10.0.0.2', TENANT_KEY)).status).toBe(200);
  });

  it('missing keys count as failures too', async () => {
    for (let i = 0; i < 3; i++) expect((await chat('10.0.1.1', null)).status).toBe(401);
    expect((await chat('10.0.1.1', null)).status).toBe(429);
  });

  it('per key prefix: guesses spread over many addresses are throttled by their common prefix', async () => {
    for (let i = 0; i < 3; i++) expect((await chat(`10.1.0.${i}`, `omk_spread_prefix_${i}_xxxxxxxxxxxx`)).status).toBe(401);
    expect((await chat('10.1.0.99', 'omk_spread_prefix_7_xxxxxxxxxxxx')).status).toBe(429);
    // Another prefix from the same fresh address is judged on its own.
    expect((await chat('10.1.0.99', 'omk_other_prefix_7_xxxxxxxxxxxx')).status).toBe(401);
  });

  it('admin tokens are throttled the same way, on /admin, /metrics and /readyz', async () => {
    for (let i = 0; i < 3; i++) expect((await admin('10.2.0.1', '/admin/audit', `wrong-admin-token-${i}-0123456789`)).status).toBe(401);
    const blocked = await admin('10.2.0.1', '/admin/audit', ADMIN);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await blocked.json()).toMatchObject({ error: { code: 'too_many_auth_failures' } });
    expect((await admin('10.2.0.1', '/metrics', ADMIN)).status).toBe(429);
    expect((await admin('10.2.0.1', '/readyz', ADMIN)).status).toBe(429);
    expect((await admin('10.2.0.2', '/admin/audit', ADMIN)).status).toBe(200);
  });

  it('/readyz: status alone without a token, the detail with one', async () => {
    expect(await (await fetch(`${gw.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const detail = await (await admin('10.2.1.1', '/readyz', ADMIN)).json();
    expect(detail).toMatchObject({ status: 'ready', storage: { state: 'up', backend: 'sqlite' }, deployments: expect.any(Object), config_version: expect.any(String) });
    expect((await admin('10.2.1.2', '/readyz', 'not-the-admin-token-0123456789')).status).toBe(401);
  });

  it('refusals are all counted, but only audit_sample per interval are audited, then one summary', async () => {
    const ip = '10.3.0.1';
    const counted = (await refusalCount('invalid_api_key')) + (await refusalCount('too_many_auth_failures'));
    const decisions: string[] = [];
    for (let i = 0; i < 8; i++) decisions.push((await chat(ip, `omk_sample_${i}_zzzzzzzzzzzzzzzz`)).headers.get('x-omega-decision-id')!);
    expect((await refusalCount('invalid_api_key')) + (await refusalCount('too_many_auth_failures'))).toBe(counted + 8);

    const ofIp = async () => (await gw.auditRecords()).filter((r) => r.client_ip === ip);
    const records = await waitFor(async () => {
      const rs = await ofIp();
      return rs.length >= 3 && rs;
    }, 'the summary record', 5000);
    expect(records).toHaveLength(3);
    expect(records.slice(0, 2).map((r) => r.decision_id)).toEqual(decisions.slice(0, 2));
    expect(records.map((r) => r.refusals_summarised)).toEqual([null, null, 6]);
    // The summary is the latest refusal's record.
    expect(records[2]!.decision_id).toBe(decisions[7]);
    expect(records[2]!.error_code).toBe('too_many_auth_failures');
  });
});
