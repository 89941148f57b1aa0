/**
 * Two gateway replicas sharing one store (a SQLite file) and the real Redis of this machine:
 * a review decided on B releases the request held on A at once (signal, not polling), a policy
 * replaced on B is enforced by A, a key revoked with `omega keys revoke` is refused by both at
 * once, and a restart of B fails none of A's holds. Under CI=true Redis must be reachable.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/main.js';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { adminCall, refused, waitFor } from '../support/requests.js';
import { REDIS_URL, redisVariantsEnabled } from '../conformance/redis-harness.js';

const HELD_KEY = 'omk_test_replica_held_0123456789abcd';
const OPEN_KEY = 'omk_test_replica_open_0123456789abcd';
const ADMIN = 'adm_test_replica_token_0123456789abcd';
const CLI = join(import.meta.dirname, '../../src/cli/index.ts');

const enabled = await redisVariantsEnabled('the replica tests');

function config(upstream: string, dir: string, prefix: string): string {
  return `
server: { upstream_timeout: 2s, shutdown_grace: 200ms }
storage: { url: "sqlite://${dir}/omega.db" }
audit: { flush_interval: 20ms }
keys: { cache_ttl: 1h }
redis: { url: "${REDIS_URL}", key_prefix: "${prefix}" }
admin: { tokens: [ { id: alice, token: "${ADMIN}" } ] }
providers:
  fake-openai: { type: openai, base_url: "${upstream}", api_key: "${FAKE_UPSTREAM_KEY}", circuit_breaker: { enabled: false } }
models:
  gpt-test: { provider: fake-openai, model: gpt-upstream, retries: 0, price: { input: 2, output: 8 } }
policies:
  held:
    review: { mode: hold, timeout: 20s, on_timeout: block }
    rules: [ { id: everything, when: "true", action: review } ]
  gate:
    rules: [ { id: nothing, terms: ["no such phrase at all"], action: block } ]
tenants:
  acme:
    models: [gpt-test]
    teams:
      research:
        agents:
          held: { policy: held, keys: [ { id: key_held, key: "${HELD_KEY}" } ] }
          open: { policy: gate, keys: [ { id: key_open, key: "${OPEN_KEY}" } ] }
`;
}

const user = (content: string) => [{ role: 'user' as const, content }];
const admin = (base: string, method: string, path: string, body?: unknown) => adminCall(base, method, path, body, ADMIN);
const omega = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8' });

describe.runIf(enabled)('two replicas on one store and one Redis', () => {
  let upstream: FakeOpenAI;
  let dir: string;
  let file: string;
  let text: string;
  let a: RunningGateway;
  let b: RunningGateway;
  const start = (instance: string) =>
    startGateway({ config: parseConfigText(text, file, {}), port: 0, host: '127.0.0.1', instance, logger: pino({ level: process.env.OMEGA_TEST_LOG ?? 'silent' }) });

  beforeAll(async () => {
    upstream = await startFakeOpenAI();
    dir = mkdtempSync(join(tmpdir(), 'omega-replicas-'));
    file = join(dir, 'omega.yaml');
    text = config(upstream.baseUrl, dir, `omega-test-${randomBytes(6).toString('hex')}`);
    writeFileSync(file, text);
    a = await start('replica-a');
    b = await start('replica-b');
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (gw: RunningGateway, key: string) => new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  const pending = (marker: string) =>
    waitFor(async () => (await admin(b.url, 'GET', '/reviews?status=pending')).json.data.find((i: any) => JSON.stringify(i.request).includes(marker)), 'the held item');

  it('an approval sent to B releases the request held on A within 100 ms', async () => {
    const marker = '[held-on-a]';
    // Warm A's upstream connection, so the measured time is the release, not a first connect.
    await client(a, OPEN_KEY).chat.completions.create({ model: 'gpt-test', messages: user('warm up') });
    let answeredAt = 0;
    const call = client(a, HELD_KEY)
      .chat.completions.create({ model: 'gpt-test', messages: user(`hold me ${marker}`) })
      .then((r) => ((answeredAt = performance.now()), r));
    const item = await pending(marker);
    expect(item.owner).toBe('replica-a');
    const approved = await admin(b.url, 'POST', `/reviews/${item.id}/approve`, { reason: 'fine' });
    const decidedAt = performance.now();
    expect(approved.status).toBe(200);
    const answer = await call;
    expect(answer.choices[0]!.message.content).toBeTruthy();
    // The poll runs every 5 s with Redis: only the signal can make this.
    expect(answeredAt - decidedAt).toBeLessThan(100);
  });

  it('a restart of B fails none of the holds A is still waiting on', async () => {
    const marker = '[survives-b-restart]';
    const call = client(a, HELD_KEY).chat.completions.create({ model: 'gpt-test', messages: user(`wait ${marker}`) });
    const item = await pending(marker);
    await b.close();
    b = await start('replica-b');
    expect((await admin(b.url, 'GET', `/reviews/${item.id}`)).json.status).toBe('pending');
    expect((await admin(b.url, 'POST', `/reviews/${item.id}/approve`)).status).toBe(200);
    await expect(call).resolves.toMatchObject({ object: 'chat.completion' });
  });

  it('a policy replaced on B is enforced by A at once', async () => {
    const phrase = 'zebra crossing';
    await expect(client(a, OPEN_KEY).chat.completions.create({ model: 'gpt-test', messages: user(`the ${phrase}`) })).resolves.toBeTruthy();
    const put = await admin(b.url, 'PUT', '/policies/gate', { rules: [{ id: 'zebras', terms: [phrase], action: 'block' }] });
    expect(put.status).toBe(200);
    const putAt = performance.now();
    await waitFor(async () => (await admin(a.url, 'GET', '/policies/gate')).json.version === put.json.version, "A's policy version", 1000);
    expect(performance.now() - putAt).toBeLessThan(500); // the resync would take up to 10 s
    const err = await refused(client(a, OPEN_KEY).chat.completions.create({ model: 'gpt-test', messages: user(`the ${phrase}`) }));
    expect(err.status).toBe(403);
  });

  it('a key revoked with `omega keys revoke` is refused by every replica at once, despite a 1 h cache', async () => {
    const created = await omega('keys', 'create', '--tenant', 'acme', '--agent', 'open', '-c', file);
    const key = /key:\s+(\S+)/.exec(created.stdout)![1]!;
    const id = /key id:\s+(\S+)/.exec(created.stdout)![1]!;
    for (const gw of [a, b]) await expect(client(gw, key).chat.completions.create({ model: 'gpt-test', messages: user('hi') })).resolves.toBeTruthy();
    const revoked = await omega('keys', 'revoke', id, '-c', file);
    expect(revoked.stdout).toContain('running replicas were told at once');
    for (const gw of [a, b]) {
      const err = await refused(client(gw, key).chat.completions.create({ model: 'gpt-test', messages: user('hi') }));
      expect(err.status).toBe(401);
    }
  }, 90_000); // two CLI processes, each a few seconds on a busy machine
});
