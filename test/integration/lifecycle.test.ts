/**
 * The gateway as an operator runs it: the `omega` CLI in a child process. Runtime keys are
 * created and revoked with the CLI; SIGTERM drains in-flight requests and flushes the audit.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { baseConfig, TENANT_KEY } from '../support/gateway.js';
import { rawRequest } from '../support/raw-http.js';

const CLI = ['--import', 'tsx', join(import.meta.dirname, '../../src/cli/index.ts')];
/**
 * Each process start (tsx compiling the CLI) gets its own budget: on a busy machine one start
 * can take several seconds, so a test's timeout is this times the starts it makes.
 */
const START_BUDGET = 60_000;
const budget = (starts: number) => starts * START_BUDGET;

let upstream: FakeOpenAI;
let dir: string;
let configFile: string;

function omega(...args: string[]) {
  const res = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: { ...process.env, OMEGA_CONFIG: configFile }, timeout: START_BUDGET });
  return { code: res.status, out: res.stdout, err: res.stderr };
}

async function serve(): Promise<{ child: ChildProcess; url: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0'], { env: { ...process.env, OMEGA_CONFIG: configFile, OMEGA_LOG_LEVEL: 'info' } });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${out}`)), START_BUDGET);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /OmegaEngine Gateway \S+ on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  return { child, url, exited };
}

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  dir = mkdtempSync(join(tmpdir(), 'omega-cli-'));
  configFile = join(dir, 'omega.yaml');
  writeFileSync(configFile, baseConfig(upstream.baseUrl).replaceAll('${DATA_DIR}', dir));
});
afterAll(async () => {
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('omega CLI', () => {
  it('validates a configuration and reports problems with file, line and path', () => {
    expect(omega('config', 'validate', configFile)).toMatchObject({ code: 0 });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'models:\n  m1: { provider: nowhere }\n');
    const res = omega('config', 'validate', bad);
    expect(res.code).toBe(1);
    expect(res.err).toContain(bad);
    expect(res.err).toMatch(/line 2: models\.m1\.provider: unknown provider "nowhere"/);
  }, budget(2));

  it('creates a key that works at once, lists it without the secret, and revokes it', async () => {
    const gateway = await serve();
    try {
      const created = omega('keys', 'create', '--tenant', 'acme', '--agent', 'bot');
      expect(created.code).toBe(0);
      const key = /key:\s+(omk_\S+)/.exec(created.out)![1]!;
      const keyId = /key id: (\S+)/.exec(created.out)![1]!;

      const client = new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
      const res = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'runtime key' }] }).withResponse();
      expect(res.data.choices[0]!.message.content).toBe('Echo: runtime key');

      const listed = omega('keys', 'list', '--tenant', 'acme');
      expect(listed.out).toContain(keyId);
      expect(listed.out).not.toContain(key);

      const db = new Database(join(dir, 'omega.db'), { readonly: true });
      const row = db.prepare('select hash from api_keys where id = ?').get(keyId) as { hash: string };
      db.close();
      expect(row.hash).toMatch(/^sha256:[0-9a-f]{64}$/);

      expect(omega('keys', 'revoke', keyId).code).toBe(0);
      await new Promise((r) => setTimeout(r, 100)); // keys.cache_ttl is 50ms in this config
      await expect(client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 401 });
      expect(omega('keys', 'create', '--tenant', 'acme', '--agent', 'ghost').code).toBe(1);
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
    }
  }, budget(6));

  it('on SIGTERM finishes in-flight requests, then flushes every audit record', async () => {
    const gateway = await serve();
    // An encoded path without a key once reached the handler, crashed and left an in-flight
    // entry behind that held the next shutdown open past its grace period.
    const sneaky = await rawRequest(gateway.url, 'POST', '/%76%31/chat/completions', { 'content-type': 'application/json' }, '{"model":"gpt-test","messages":[]}');
    expect(sneaky.status).toBe(401);
    const client = new OpenAI({ apiKey: TENANT_KEY, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const slow = Array.from({ length: 5 }, (_, i) =>
      client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: `drain ${i} [slow:400]` }] }).withResponse(),
    );
    while (upstream.requests.filter((r) => r.rawBody.includes('[slow:400]')).length < 5) await new Promise((r) => setTimeout(r, 10));
    gateway.child.kill('SIGTERM');
    const signalled = Date.now();
    const answers = await Promise.all(slow);
    expect(answers.map((a) => a.data.choices[0]!.message.content)).toEqual(Array.from({ length: 5 }, (_, i) => `Echo: drain ${i} [slow:400]`));
    expect(await gateway.exited).toBe(0);
    // The drain takes the slow requests' 400 ms; nothing else may hold the exit till the 30 s grace ends.
    expect(Date.now() - signalled).toBeLessThan(25_000);

    const db = new Database(join(dir, 'omega.db'), { readonly: true });
    const ids = new Set((db.prepare('select decision_id from audit_records').all() as { decision_id: string }[]).map((r) => r.decision_id));
    db.close();
    for (const a of answers) expect(ids.has(a.response.headers.get('x-omega-decision-id')!)).toBe(true);
    expect(ids.has(sneaky.headers['x-omega-decision-id']!)).toBe(true);
  }, budget(2));

  it('reports spend per day, tenant, team, agent and model from the audit trail', () => {
    const res = omega('spend', '--tenant', 'acme', '--since', '1d', '--json');
    expect(res.code).toBe(0);
    const rows = JSON.parse(res.out) as { tenant_id: string; agent_id: string; model: string; requests: number; cost_usd: number }[];
    const db = new Database(join(dir, 'omega.db'), { readonly: true });
    const audit = db.prepare("select count(*) as n, sum(cost_usd) as usd from audit_records where tenant_id = 'acme' and model_resolved = 'gpt-test'").get() as { n: number; usd: number };
    db.close();
    const gpt = rows.filter((r) => r.model === 'gpt-test');
    expect(gpt.reduce((s, r) => s + r.requests, 0)).toBe(audit.n);
    expect(gpt.reduce((s, r) => s + r.cost_usd, 0)).toBeCloseTo(audit.usd, 12);
    expect(gpt[0]).toMatchObject({ tenant_id: 'acme', agent_id: 'bot' });
  }, budget(1));

  it('tests a policy against a request without sending anything', () => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(
      file,
      baseConfig(upstream.baseUrl).replaceAll('${DATA_DIR}', dir).replace('  acme:\n', '  acme:\n    policy: strict\n') +
        `
policies:
  strict:
    rules:
      - { id: no-cards, detect: pii.payment_card, action: block }
      - { id: big-output, when: "request.max_tokens > 1000", action: review }
`,
    );
    const req = join(dir, 'req.json');
    writeFileSync(req, JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'my card is 4111 1111 1111 1111' }] }));
    const before = upstream.requests.length;
    const blocked = omega('policy', 'test', file, '--request', req, '--tenant', 'acme', '--agent', 'bot', '--expect', 'BLOCK');
    expect(blocked.code).toBe(0);
    const out = JSON.parse(blocked.out);
    expect(out).toMatchObject({ policy: 'strict', outcome: 'BLOCK', matched_rules: [{ id: 'no-cards', action: 'block', shadow: false }] });
    expect(out.signals.pii_types).toEqual(['payment_card']);
    expect(blocked.out).not.toContain('4111 1111 1111 1111');

    writeFileSync(req, JSON.stringify({ model: 'gpt-test', max_tokens: 4000, messages: [{ role: 'user', content: 'write a long story' }] }));
    expect(JSON.parse(omega('policy', 'test', file, '--request', req, '--policy', 'strict').out).outcome).toBe('REVIEW');
    const wrong = omega('policy', 'test', file, '--request', req, '--policy', 'strict', '--expect', 'ALLOW');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain('expected ALLOW, got REVIEW');
    expect(upstream.requests.length).toBe(before);
  }, budget(3));
});
