import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashApiKey } from '../auth/api-keys.js';
import { KeyDirectory } from '../auth/directory.js';
import type { GatewayConfig } from '../config/load.js';
import { AuthThrottle } from '../edge/auth-throttle.js';
import { GatewayError } from '../errors.js';
import { KyselyKeyStore } from '../store/key-store.js';
import { ACME_KEY, acmeTenant, scratchDb, stageConfig } from '../../test/support/stage-fixtures.js';
import { authenticate } from './authenticate.js';

const RUNTIME_KEY = 'omk_runtime_key_abcdefghijklmnopqrstu';
const REVOKED_KEY = 'omk_revoked_key_abcdefghijklmnopqrstu';
const EXPIRED_KEY = 'omk_expired_key_abcdefghijklmnopqrstu';

let config: GatewayConfig;
let store: Awaited<ReturnType<typeof scratchDb>>;
let keys: KeyDirectory;

/** The gateway's throttle, with the configured settings (three failures allowed). */
function throttleOf(c: GatewayConfig): AuthThrottle {
  const t = c.server.auth_throttle;
  return new AuthThrottle({ maxFailures: t.max_failures, windowMs: t.window, blockMs: t.block, keyPrefixLength: t.key_prefix_length, maxTracked: t.max_tracked });
}

async function refusal(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(GatewayError);
  return err as GatewayError;
}

beforeEach(async () => {
  config = stageConfig(`server: { auth_throttle: { max_failures: 3, block: 30s } }\n${acmeTenant()}`);
  store = await scratchDb();
  const keyStore = new KyselyKeyStore(store.db);
  const created = new Date();
  await keyStore.create({ id: 'key_rt', hash: hashApiKey(RUNTIME_KEY), tenantId: 'acme', agentId: 'bot', hint: 'omk_…rstu', createdAt: created, revokedAt: null, expiresAt: null });
  await keyStore.create({ id: 'key_old', hash: hashApiKey(REVOKED_KEY), tenantId: 'acme', agentId: 'bot', hint: 'omk_…rstu', createdAt: created, revokedAt: created, expiresAt: null });
  await keyStore.create({ id: 'key_exp', hash: hashApiKey(EXPIRED_KEY), tenantId: 'acme', agentId: 'bot', hint: 'omk_…wxyz', createdAt: created, revokedAt: null, expiresAt: new Date(created.getTime() - 1) });
  keys = new KeyDirectory(config, keyStore);
});

afterEach(async () => {
  await store.close();
});

describe('authenticate', () => {
  it('resolves a declared key, sent as bearer, api-key or x-api-key, to its principal', async () => {
    const throttle = throttleOf(config);
    for (const headers of [{ authorization: `Bearer ${ACME_KEY}` }, { 'api-key': ACME_KEY }, { 'x-api-key': ACME_KEY }]) {
      const p = await authenticate(headers, '10.0.0.1', keys, throttle);
      expect(p).toMatchObject({ tenantId: 'acme', teamId: 'research', agentId: 'bot', keyId: 'key_acme_bot' });
    }
    expect(throttle.size).toBe(0);
  });

  it('resolves a key created at runtime, with the agent it was issued to', async () => {
    const p = await authenticate({ authorization: `bearer ${RUNTIME_KEY}` }, '10.0.0.1', keys, throttleOf(config));
    expect(p).toMatchObject({ tenantId: 'acme', agentId: 'bot', keyId: 'key_rt' });
  });

  it('refuses a missing or malformed key with 401 invalid_api_key', async () => {
    const throttle = throttleOf(config);
    for (const headers of [{}, { authorization: `Basic ${ACME_KEY}` }, { 'x-api-key': '' }]) {
      const err = await refusal(authenticate(headers, '10.0.0.2', keys, throttle));
      expect(err.code).toBe('invalid_api_key');
      expect(err.status).toBe(401);
      expect(err.message).toMatch(/^Missing API key/);
    }
  });

  it('refuses unknown, revoked and expired keys alike, naming neither the key nor which case it was', async () => {
    const throttle = throttleOf(config);
    const unknown = await refusal(authenticate({ authorization: 'Bearer omk_never_issued_0123456789abcdef' }, '10.0.0.3', keys, throttle));
    const revoked = await refusal(authenticate({ authorization: `Bearer ${REVOKED_KEY}` }, '10.0.0.4', keys, throttle));
    const expired = await refusal(authenticate({ authorization: `Bearer ${EXPIRED_KEY}` }, '10.0.0.6', keys, throttle));
    expect(expired.message).toBe(unknown.message);
    for (const err of [unknown, revoked, expired]) {
      expect(err.code).toBe('invalid_api_key');
      expect(err.status).toBe(401);
    }
    expect(revoked.message).toBe(unknown.message);
    expect(revoked.message).not.toContain(REVOKED_KEY);
  });

  it('blocks an IP after repeated failures with 429 and Retry-After, even when it then sends a valid key', async () => {
    const throttle = throttleOf(config);
    for (let i = 0; i < 3; i++) await refusal(authenticate({ authorization: `Bearer omk_guess${i}_zzzzzzzzzzzzzzzzzzzz` }, '10.0.0.5', keys, throttle));
    const err = await refusal(authenticate({ authorization: `Bearer ${ACME_KEY}` }, '10.0.0.5', keys, throttle));
    expect(err.code).toBe('too_many_auth_failures');
    expect(err.status).toBe(429);
    expect(Number(err.headers?.['retry-after'])).toBeGreaterThan(0);
    expect(Number(err.headers?.['retry-after'])).toBeLessThanOrEqual(30);
    // Another client with the same valid key is not affected.
    await expect(authenticate({ authorization: `Bearer ${ACME_KEY}` }, '10.0.0.6', keys, throttle)).resolves.toMatchObject({ keyId: 'key_acme_bot' });
  });

  it('blocks a key prefix guessed from many IPs', async () => {
    const throttle = throttleOf(config);
    const prefix = ACME_KEY.slice(0, 14);
    for (let i = 0; i < 3; i++) await refusal(authenticate({ authorization: `Bearer ${prefix}wrong${i}_000000000000` }, `10.1.0.${i}`, keys, throttle));
    const err = await refusal(authenticate({ authorization: `Bearer ${ACME_KEY}` }, '10.1.0.99', keys, throttle));
    expect(err.code).toBe('too_many_auth_failures');
  });

  it('does not count successful authentications as failures', async () => {
    const throttle = throttleOf(config);
    for (let i = 0; i < 5; i++) await authenticate({ authorization: `Bearer ${ACME_KEY}` }, '10.0.0.7', keys, throttle);
    expect(throttle.size).toBe(0);
  });
});
