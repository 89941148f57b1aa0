/**
 * redis.on_unavailable against a real redis-server this test starts on a free port, stops and
 * starts again: `local` keeps serving with per-process counters (log, gauge, /readyz) and
 * returns to Redis by itself; `refuse` answers 503 counters_unavailable meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { baseConfig, startTestGateway, TENANT_KEY, type TestGateway } from '../support/gateway.js';

const ADMIN = 'admin-token-for-degraded-tests-0123456789';
const hasRedisServer = await new Promise<boolean>((resolve) => {
  const p = spawn('redis-server', ['--version'], { stdio: 'ignore' });
  p.on('error', () => resolve(false));
  p.on('exit', (code) => resolve(code === 0));
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
  });
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

const until = async (what: () => Promise<boolean>, ms: number) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
};

describe.skipIf(!hasRedisServer && process.env.CI !== 'true')('Redis unreachable (redis.on_unavailable)', { timeout: 60_000 }, () => {
  let upstream: FakeOpenAI;
  let port: number;
  let redis: ChildProcess;
  let local: TestGateway;
  let refuse: TestGateway;

  const start = (mode: string) =>
    startTestGateway(
      baseConfig(
        upstream.baseUrl,
        `redis: { url: "redis://127.0.0.1:${port}", key_prefix: "degraded-${mode}", on_unavailable: ${mode} }\nadmin:\n  tokens: [ { id: ops, token: "${ADMIN}" } ]\n`,
      ).replace('          bot:\n', '          bot:\n            rate_limits: { rpm: 1000 }\n'),
    );
  const chat = async (gw: TestGateway) => {
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] }),
    });
    return { status: res.statusCode, body: (await res.body.json()) as { error?: { code?: string } } };
  };
  const admin = async (gw: TestGateway, path: string) => {
    const res = await request(`${gw.url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } });
    return res.body.text();
  };
  const counters = async (gw: TestGateway) => (JSON.parse(await admin(gw, '/readyz')) as { counters: { state: string } }).counters.state;

  beforeAll(async () => {
    upstream = await startFakeOpenAI();
    port = await freePort();
    redis = await startRedis(port);
    local = await start('local');
    refuse = await start('refuse');
  }, 30_000);
  afterAll(async () => {
    await local?.stop();
    await refuse?.stop();
    await upstream?.close();
    if (redis && redis.exitCode === null) await stopRedis(redis);
  });

  it('falls back to local counters (or refuses), shows it, and returns to Redis when it answers again', async () => {
    expect((await chat(local)).status).toBe(200);
    expect((await chat(refuse)).status).toBe(200);
    expect(await counters(local)).toBe('redis');

    await stopRedis(redis);
    expect((await chat(local)).status).toBe(200);
    const refused = await chat(refuse);
    expect(refused.status).toBe(503);
    expect(refused.body.error?.code).toBe('counters_unavailable');
    expect(await counters(local)).toBe('degraded');
    expect(await admin(local, '/metrics')).toMatch(/omega_degraded\{concern="counters"\} 1/);
    // Still ready: local mode serves.
    expect((await request(`${local.url}/readyz`)).statusCode).toBe(200);

    redis = await startRedis(port);
    expect(await until(async () => (await counters(local)) === 'redis' && (await counters(refuse)) === 'redis', 15_000)).toBe(true);
    expect(await admin(local, '/metrics')).toMatch(/omega_degraded\{concern="counters"\} 0/);
    expect((await chat(refuse)).status).toBe(200);
    expect((await chat(local)).status).toBe(200);
  });
});
