/**
 * Crash-safe money: kill -9 right after a burst of paid requests (and with one request in
 * flight, one held for review), restart on the same SQLite file, and the budget still counts
 * what was spent — exactly in strict durability, minus the documented loss window in batched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { APIError } from 'openai';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/record.js';
import { verifyAudit } from '../../src/audit/verify.js';
import { parseConfigText } from '../../src/config/load.js';
import { startGateway, type RunningGateway } from '../../src/main.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { adminCall, refused, waitFor } from '../support/requests.js';

const ADMIN = 'admin-token-for-crash-tests-0123456789';
const PAYER = 'omk_test_crash_payer_0123456789abcdef';
const HELD = 'omk_test_crash_held_0123456789abcdefg';
/** The agent's daily budget; a probe whose worst case exceeds it is refused with what is left. */
const BUDGET = 0.01;
const PRICE = { input: 2, output: 8 };

let fake: FakeOpenAI;
let dir: string;
const running: RunningGateway[] = [];

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  for (const g of running) await g.close().catch(() => undefined);
  await fake?.close();
});

function config(durability: 'strict' | 'batched'): string {
  return `
server: { upstream_timeout: 30s }
storage: { url: "sqlite://${dir}/omega.db" }
# Nothing reaches the store by timer during the test: what is durable is what the mode promises.
audit: { durability: ${durability}, flush_interval: 60s, batch_size: 10000 }
admin: { tokens: [ { id: auditor, token: "${ADMIN}" } ] }
providers:
  fake: { type: openai, base_url: "${fake.baseUrl}", api_key: "sk-upstream-test-key-123", circuit_breaker: { enabled: false } }
models:
  gpt-test: { provider: fake, retries: 0, price: { input: ${PRICE.input}, output: ${PRICE.output} } }
policies:
  patient:
    review: { mode: hold, timeout: 30d, on_timeout: allow }
    rules: [ { id: everything, when: "true", action: review } ]
tenants:
  acme:
    models: [gpt-test]
    teams:
      money:
        agents:
          payer: { budget: { usd: ${BUDGET}, period: daily }, keys: [ { id: key_payer, key: "${PAYER}" } ] }
  waiting:
    models: [gpt-test]
    policy: patient
    teams:
      queue:
        agents:
          held: { keys: [ { id: key_held, key: "${HELD}" } ] }
`;
}

async function startChild(file: string): Promise<{ url: string; child: ChildProcess; exited: Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../support/serve-child.ts'), file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`child gateway did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  return { url, child, exited };
}

const costOf = (u: { prompt_tokens: number; completion_tokens: number } | null | undefined) => (u!.prompt_tokens * PRICE.input + u!.completion_tokens * PRICE.output) / 1_000_000;

/** Paid requests, half streamed, all at once; returns what the provider reported they cost. */
async function burst(client: OpenAI, tag: string, n: number): Promise<number> {
  const costs = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const messages = [{ role: 'user' as const, content: `${tag} r${i} [words:${5 + i}]` }];
      if (i % 2 === 0) return costOf((await client.chat.completions.create({ model: 'gpt-test', max_tokens: 50, messages })).usage);
      const stream = await client.chat.completions.create({ model: 'gpt-test', max_tokens: 50, messages, stream: true, stream_options: { include_usage: true } });
      let cost = 0;
      for await (const chunk of stream) if (chunk.usage) cost = costOf(chunk.usage);
      return cost;
    }),
  );
  return costs.reduce((a, b) => a + b, 0);
}

/** What the ledger counts as spent: a probe whose worst case exceeds the budget is refused with the rest. */
async function ledgerSpent(url: string): Promise<number> {
  const client = new OpenAI({ apiKey: PAYER, baseURL: `${url}/v1`, maxRetries: 0 });
  const err = await refused(client.chat.completions.create({ model: 'gpt-test', max_tokens: 2000, messages: [{ role: 'user', content: 'probe' }] }));
  expect(err.status).toBe(402);
  return BUDGET - Number(err.headers?.get('x-omega-budget-remaining-usd'));
}

async function restart(file: string): Promise<RunningGateway> {
  const gateway = await startGateway({ config: parseConfigText(readFileSync(file, 'utf8'), file, {}), port: 0, host: '127.0.0.1', logger: pino({ level: 'silent' }) });
  running.push(gateway);
  return gateway;
}

async function killNow(child: ChildProcess, exited: Promise<void>): Promise<void> {
  child.kill('SIGKILL');
  await exited;
}

describe('kill -9 after paid requests', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'omega-crash-money-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('strict: after the restart the budget counts every answered request at its cost, and a request in flight at its reserved worst case', async () => {
    const file = join(dir, 'strict.yaml');
    writeFileSync(file, config('strict'));
    const { url, child, exited } = await startChild(file);
    const client = new OpenAI({ apiKey: PAYER, baseURL: `${url}/v1`, maxRetries: 0 });
    const tag = `strict-${Date.now()}`;
    const spentBefore = await burst(client, tag, 10);
    expect(spentBefore).toBeGreaterThan(0.001);
    // One stream is mid-answer (the provider may bill it) and one request waits for review when the process dies.
    const inFlight = client.chat.completions.create({ model: 'gpt-test', max_tokens: 50, stream: true, messages: [{ role: 'user', content: `${tag} inflight [gate]` }] });
    const held = new OpenAI({ apiKey: HELD, baseURL: `${url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: `${tag} held` }] }).catch((e: unknown) => e);
    const stream = await inFlight;
    await stream[Symbol.asyncIterator]().next();
    const item = await waitFor(async () => (await adminCall(url, 'GET', '/reviews?status=pending', undefined, ADMIN)).json.data[0], 'the held request', 10_000);
    await killNow(child, exited);
    fake.release();
    expect(await held).toBeInstanceOf(APIError);

    const next = await restart(file);
    const spentAfter = await ledgerSpent(next.url);
    // Never less than what was answered (the in-flight stream adds its hold on top).
    expect(spentAfter).toBeGreaterThanOrEqual(spentBefore - 1e-6);

    // Each request has one final record: the answered ones at their committed cost, the one in
    // flight at its reserved worst case, the held one at nothing — and the chain still verifies.
    const rows = await next.db.selectFrom('audit_records').select(['kind', 'record']).where('kind', '=', 'request').execute();
    const records = rows.map((r) => JSON.parse(r.record) as AuditRecord);
    const ours = records.filter((r) => r.tenant_id === 'acme' && r.http_status !== 402);
    expect(ours).toHaveLength(11);
    expect(ours.every((r) => r.error_code === 'gateway_restarted')).toBe(true);
    const gated = ours.filter((r) => r.usage_estimated);
    expect(gated).toHaveLength(1);
    expect(gated[0]!.cost_usd).toBe(gated[0]!.budget_reserved_usd);
    expect(gated[0]!.cost_usd).toBeGreaterThan(0);
    const answered = ours.filter((r) => !r.usage_estimated).reduce((s, r) => s + r.cost_usd, 0);
    expect(answered).toBeCloseTo(spentBefore, 9);
    expect(spentAfter).toBeCloseTo(spentBefore + gated[0]!.cost_usd, 5);

    const lostHold = records.find((r) => r.review_id === item.id);
    expect(lostHold).toMatchObject({ kind: 'request', tenant_id: 'waiting', policy_outcome: 'REVIEW', review_decision: 'failed', error_code: 'gateway_restarted', cost_usd: 0, attempts: 0 });
    expect((await verifyAudit(next.stores.auditQuery)).every((v) => v.broken === null)).toBe(true);

    // Spend reports agree with the budget.
    const spend = await adminCall(next.url, 'GET', '/spend?tenant=acme', undefined, ADMIN);
    const reported = spend.json.data.reduce((s: number, r: { cost_usd: number }) => s + r.cost_usd, 0);
    expect(reported).toBeCloseTo(spentAfter, 5);

    // A second restart writes nothing more and counts the same.
    await next.close();
    running.splice(running.indexOf(next), 1);
    const again = await restart(file);
    expect(await again.db.selectFrom('audit_records').select((eb) => eb.fn.countAll<number>().as('n')).where('kind', '=', 'request').where('error_code', '=', 'gateway_restarted').executeTakeFirst()).toEqual({ n: 12 });
    expect(await ledgerSpent(again.url)).toBeCloseTo(spentAfter, 6);
    await again.close();
    running.splice(running.indexOf(again), 1);
  }, 90_000);

  it('batched: after the restart the budget counts everything but the last flush interval (the documented loss window)', async () => {
    rmSync(join(dir, 'omega.db'), { force: true });
    rmSync(join(dir, 'omega.db-wal'), { force: true });
    rmSync(join(dir, 'omega.db-shm'), { force: true });
    const file = join(dir, 'batched.yaml');
    writeFileSync(file, config('batched'));
    const { url, child, exited } = await startChild(file);
    const client = new OpenAI({ apiKey: PAYER, baseURL: `${url}/v1`, maxRetries: 0 });
    const tag = `batched-${Date.now()}`;
    const committed = await burst(client, `${tag}-a`, 6);
    // The admin API flushes the queue: this is what a flush interval's group commit does.
    expect((await adminCall(url, 'GET', '/spend', undefined, ADMIN)).status).toBe(200);
    const window = await burst(client, `${tag}-b`, 6);
    const spentBefore = committed + window;
    await killNow(child, exited);

    const next = await restart(file);
    const spentAfter = await ledgerSpent(next.url);
    expect(spentAfter).toBeGreaterThanOrEqual(spentBefore - window - 1e-6);
    expect(spentAfter).toBeCloseTo(committed, 6);
  }, 90_000);
});
