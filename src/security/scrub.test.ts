import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../config/load.js';
import { GatewayError } from '../errors.js';
import { REDACTED, Scrubber, configSecrets, scrubPatterns } from './scrub.js';

const PROVIDER_KEY = 'plain-provider-secret-value-42';
const ADMIN_TOKEN = 'admin-token-that-is-long-enough';
const TENANT_KEY = 'omk_live_tenant_key_abcdefghij0123';
const HEADER_SECRET = 'org-header-secret-0099';

const config = parseConfigText(
  `
providers:
  p: { type: openai, base_url: "http://127.0.0.1:1/v1", api_key: "${PROVIDER_KEY}", headers: { OpenAI-Organization: "${HEADER_SECRET}" } }
models:
  m: { provider: p }
admin:
  tokens: [ { id: ops, token: "${ADMIN_TOKEN}" } ]
tenants:
  acme:
    models: [m]
    teams: { t: { agents: { a: { keys: [ { id: k1, key: "${TENANT_KEY}" } ] } } } }
alerts: { webhook: "https://hooks.example.com/services/T000/B000/webhooksecretpart" }
`,
  '<inline>',
  {},
);

describe('configSecrets', () => {
  it('finds provider keys, provider headers, admin tokens, tenant keys and the webhook path', () => {
    const found = configSecrets(config);
    for (const s of [PROVIDER_KEY, ADMIN_TOKEN, TENANT_KEY, HEADER_SECRET]) expect(found).toContain(s);
    expect(found.some((s) => s.includes('webhooksecretpart'))).toBe(true);
    expect(found).not.toContain('m');
  });
});

describe('Scrubber', () => {
  const scrubber = Scrubber.fromConfig(config);

  it.each([
    ['a configured key, verbatim', `echo: ${PROVIDER_KEY}`],
    ['a configured key, JSON-escaped in a raw body', `{"h":"${ADMIN_TOKEN}"}`],
    ['a configured header value', `OpenAI-Organization: ${HEADER_SECRET}`],
    ['a tenant key', `key ${TENANT_KEY} was seen`],
    ['a Bearer token', 'authorization: Bearer abcdefgh12345678'],
    ['an OpenAI-style key', 'sk-proj-abcdefghijklmnop1234'],
    ['an Anthropic key', 'x-api-key: sk-ant-api03-abcdefghijklmnopqrstuvwx'],
    ['a Google key', 'key=AIzaSyA1234567890abcdefghijklmnopqrstu'],
    ['a gateway key', 'omk_someone_elses_key_123'],
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'],
    ['an AWS access key', 'AKIAIOSFODNN7EXAMPLE'],
    ['a token= assignment', 'https://x.example/?token=abcdef123456'],
  ])('removes %s', (_name, text) => {
    const out = scrubber.scrub(text);
    expect(out).toContain(REDACTED);
    for (const s of [PROVIDER_KEY, ADMIN_TOKEN, TENANT_KEY, HEADER_SECRET]) expect(out).not.toContain(s.slice(0, 12));
    expect(out).not.toMatch(/abcdefgh12345678|sk-proj-abc|sk-ant-api03-abc|AIzaSy|omk_someone|eyJhbGci|AKIAIOSF|abcdef123456/);
  });

  it('leaves ordinary messages alone', () => {
    const text = "Invalid value for 'temperature': must be between 0 and 2.";
    expect(scrubber.scrub(text)).toBe(text);
  });

  it('scrubs a secret cut off by an earlier truncation', () => {
    expect(scrubber.scrub(`failed: ${PROVIDER_KEY.slice(0, 10)}…`)).toBe(`failed: ${REDACTED}…`);
  });

  it('bounds the length and flattens control characters', () => {
    const out = scrubber.scrub(`line1\r\nline2 ${'x '.repeat(5000)}`, 100);
    expect(out.length).toBeLessThanOrEqual(101);
    expect(out).not.toMatch(/[\r\n]/);
  });

  it('copies a catalog error with a scrubbed message and only a valid Retry-After', () => {
    const err = new GatewayError('upstream_rate_limited', `slow down ${PROVIDER_KEY}`, { headers: { 'retry-after': PROVIDER_KEY } });
    const safe = scrubber.error(err);
    expect(safe.code).toBe('upstream_rate_limited');
    expect(safe.message).toBe(`slow down ${REDACTED}`);
    expect(safe.headers).toBeUndefined();
    expect(scrubber.error(new GatewayError('upstream_rate_limited', 'x', { headers: { 'retry-after': '3' } })).headers).toEqual({ 'retry-after': '3' });
  });

  it('keeps sane upstream request ids and drops the rest', () => {
    expect(scrubber.requestId('req_0123abcd')).toBe('req_0123abcd');
    expect(scrubber.requestId(PROVIDER_KEY)).toBeNull();
    expect(scrubber.requestId('sk-proj-abcdefghijklmnop1234')).toBeNull();
    expect(scrubber.requestId('a b')).toBeNull();
    expect(scrubber.requestId('x'.repeat(200))).toBeNull();
    expect(scrubber.requestId(undefined)).toBeNull();
    // Random ids are kept: the gateway's own (req_ + 32 hex, as OpenAI's) tripped the entropy rule one time in eight.
    for (let i = 0; i < 2000; i++) {
      const id = `req_${randomUUID().replaceAll('-', '')}`;
      expect(scrubber.requestId(id)).toBe(id);
    }
    expect(scrubber.requestId('req_011CSHCtn2PwY4vGmJfBhGZn')).toBe('req_011CSHCtn2PwY4vGmJfBhGZn');
    expect(scrubber.requestId(`req_${PROVIDER_KEY}`)).toBeNull();
    // The hex fast path still drops a configured secret of that very shape.
    const hexSecret = `req_${'0123456789abcdef'.repeat(2)}`;
    expect(new Scrubber([hexSecret]).requestId(hexSecret)).toBeNull();
    expect(scrubber.requestId('AKIAIOSFODNN7EXAMPLE')).toBeNull();
    expect(scrubber.requestId('ghp_0123456789abcdefghijABCDEFGHIJ012345')).toBeNull();
  });

  it('scrubs nested log objects', () => {
    const out = scrubber.deep({ a: { b: [`k ${ADMIN_TOKEN}`] }, err: new Error(`boom ${TENANT_KEY}`) });
    expect(JSON.stringify(out)).not.toContain(ADMIN_TOKEN);
    expect(JSON.stringify(out)).not.toContain(TENANT_KEY);
  });

  it('stays linear on adversarial inputs', () => {
    const time = (text: string) => {
      const t = performance.now();
      scrubber.scrubRaw(text);
      return performance.now() - t;
    };
    for (const unit of ['key=', 'Bearer ', 'sk-', 'eyJa.', 'a'.repeat(7) + '=', 'omk_', '://a:', `${PROVIDER_KEY.slice(0, 7)}`]) {
      time(unit.repeat(100)); // warm up
      const small = time(unit.repeat(Math.floor(2000 / unit.length)));
      const big = time(unit.repeat(Math.floor(16000 / unit.length)));
      // 8x the input may take 32x the time (noise on a busy machine), and 250 ms regardless: a quadratic pass takes seconds here.
      expect(big, unit).toBeLessThan(Math.max(small * 8 * 4, 250));
    }
  });
});

describe('scrubPatterns', () => {
  it('needs no configuration', () => {
    expect(scrubPatterns('Authorization: Bearer sk-abcdefghijklmnop1234')).not.toContain('sk-abc');
  });
});
