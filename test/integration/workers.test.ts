/**
 * `omega serve --workers 2` as a real command: refuses without redis.url (exit 2, naming the
 * key); with Redis both workers serve on one port (audit `gateway_instance` <host>/w1 and /w2),
 * a killed worker is replaced, and SIGTERM to the primary drains everything and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_UPSTREAM_KEY, startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { waitFor } from '../support/requests.js';
import { REDIS_URL, redisVariantsEnabled } from '../conformance/redis-harness.js';

const KEY = 'omk_test_workers_key_0123456789abcdef';
const CLI = join(import.meta.dirname, '../../src/cli/index.ts');

const enabled = await redisVariantsEnabled('the workers test');

function config(upstream: string, dir: string, redis: string): string {
  return `
server: { upstream_timeout: 2s, shutdown_grace: 500ms }
storage: { url: "sqlite://${dir}/omega.db" }
audit: { flush_interval: 20ms }
${redis}
providers:
  fake-openai: { type: openai, base_url: "${upstream}", api_key: "${FAKE_UPSTREAM_KEY}", circuit_breaker: { enabled: false } }
models:
  gpt-test: { provider: fake-openai, model: gpt-upstream, retries: 0 }
tenants:
  acme:
    models: [gpt-test]
    teams: { research: { agents: { bot: { keys: [ { id: key_bot, key: "${KEY}" } ] } } } }
`;
}

/** The primary's and workers' output, line by line. */
function run(args: string[]): { child: ChildProcess; lines: string[]; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMEGA_INSTANCE: 'testhost' } });
  const lines: string[] = [];
  let err = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, lines, stderr: () => err };
}

/** A chat request on a fresh connection, so the cluster may hand it to either worker. */
function chat(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ model: 'gpt-test', messages: [{ role: 'user', content: 'hi' }] });
    const req = request(`${url}/v1/chat/completions`, { method: 'POST', agent: false, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const started = (lines: string[]) => lines.flatMap((l) => (l.startsWith('{') && l.includes('"worker started"') ? [JSON.parse(l) as { worker: number; pid: number }] : []));

let upstream: FakeOpenAI;
let dir: string;
beforeAll(async () => {
  upstream = await startFakeOpenAI();
  dir = mkdtempSync(join(tmpdir(), 'omega-workers-'));
});
afterAll(async () => {
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('omega serve --workers', () => {
  it('refuses without redis.url: exit code 2, naming the key', async () => {
    const file = join(dir, 'no-redis.yaml');
    writeFileSync(file, config(upstream.baseUrl, dir, ''));
    const { child, stderr } = run(['serve', '--workers', '2', '--port', '0', '-c', file]);
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(stderr()).toContain('redis.url');
  }, 60_000);

  it.runIf(enabled)('serves from both workers on one port, replaces a killed worker, and drains on SIGTERM', async () => {
    const file = join(dir, 'workers.yaml');
    writeFileSync(file, config(upstream.baseUrl, dir, `redis: { url: "${REDIS_URL}", key_prefix: "omega-test-${randomBytes(6).toString('hex')}" }`));
    const { child, lines, stderr } = run(['serve', '--workers', '2', '--port', '0', '-c', file]);
    try {
      const listening = () => lines.flatMap((l) => /OmegaEngine Gateway \S+ on (\S+)/.exec(l)?.[1] ?? []);
      await waitFor(() => listening().length >= 2, 'two workers listening', 45_000);
      const url = listening()[0]!;
      expect(new Set(listening()).size).toBe(1); // one port

      const served = async () => {
        for (let i = 0; i < 20; i++) expect(await chat(url)).toBe(200);
        await new Promise((r) => setTimeout(r, 300)); // audit flush
        const db = new Database(join(dir, 'omega.db'), { readonly: true });
        try {
          return db.prepare("select json_extract(record, '$.gateway_instance') as i, count(*) as n from audit_records where kind = 'request' group by i").all() as { i: string; n: number }[];
        } finally {
          db.close();
        }
      };
      expect((await served()).map((r) => r.i).sort()).toEqual(['testhost/w1', 'testhost/w2']);

      // The newest worker 1 (one that died while starting on a loaded machine was replaced already).
      const victim = started(lines).filter((w) => w.worker === 1).at(-1)!;
      if (started(lines).length > 2) console.warn('workers restarted before the kill:', lines.filter((l) => l.includes('worker')).join('\n'), stderr());
      process.kill(victim.pid, 'SIGKILL');
      await waitFor(() => started(lines).find((w) => w.worker === 1 && w.pid !== victim.pid), 'worker 1 restarted', 45_000);
      await waitFor(() => listening().length >= 3, 'the new worker listening', 45_000);
      const before = await served();
      expect(before.map((r) => r.i).sort()).toEqual(['testhost/w1', 'testhost/w2']);

      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      const db = new Database(join(dir, 'omega.db'), { readonly: true });
      // Both workers appended to the same chain; it is still one unbroken sequence.
      const seqs = (db.prepare("select chain_seq from audit_records where chain = 'acme' order by chain_seq").all() as { chain_seq: number }[]).map((r) => r.chain_seq);
      db.close();
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 180_000);
});
