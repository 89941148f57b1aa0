/**
 * Recovery of lost requests at start (audit/recover.ts) with two gateway instances sharing one
 * PostgreSQL database, in strict audit mode: a replica that starts while another is forwarding
 * leaves that request alone (it is still in flight, and finishes with its own final record);
 * only the instance that crashed records its lost request, when it comes back under its name.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/record.js';
import { openStores, type OpenedStores } from '../../src/store/open-stores.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { createTestDatabase, skipPostgres } from '../conformance/backends.js';
import { startChildGateway, type ChildGateway } from '../support/child-gateway.js';
import { TENANT_KEY } from '../support/gateway.js';

const skip = await skipPostgres();

const config = (upstream: string, db: string) => `
server: { upstream_timeout: 120s }
storage: { url: "${db}", pool_size: 2 }
audit: { flush_interval: 20ms, durability: strict }
providers:
  fake-openai: { type: openai, base_url: "${upstream}", api_key: "sk-upstream-test-key-123", circuit_breaker: { enabled: false } }
models:
  gpt-test: { provider: fake-openai, model: gpt-upstream, retries: 0, price: { input: 1, output: 1 } }
tenants:
  acme:
    models: [gpt-test]
    teams: { research: { agents: { bot: { keys: [ { id: key_acme_bot, key: "${TENANT_KEY}" } ] } } } }
`;

const until = async (what: () => Promise<boolean>, ms: number): Promise<boolean> => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
};

describe.skipIf(skip)('recovery at start with two instances sharing one database', { timeout: 180_000 }, () => {
  let upstream: FakeOpenAI;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dir: string;
  let file: string;
  let stores: OpenedStores;
  const children: ChildGateway[] = [];

  beforeAll(async () => {
    upstream = await startFakeOpenAI();
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'omega-recovery-'));
    file = join(dir, 'omega.yaml');
    writeFileSync(file, config(upstream.baseUrl, db.url));
    stores = await openStores(db.url);
  }, 60_000);

  afterAll(async () => {
    for (const c of children) await c.stop();
    await stores?.close();
    await upstream?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const rowsOf = async (decisionId: string): Promise<AuditRecord[]> => (await stores.auditQuery.search({ decisionId, allKinds: true, limit: 100 })).data;
  const unfinished = async (instance: string) => (await stores.auditQuery.unfinished(instance)).map((r) => r.record.decision_id);
  const slowChat = (url: string, ms: number) =>
    request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-test', max_tokens: 5, messages: [{ role: 'user', content: `slow [slow:${ms}] [words:2]` }] }),
    }).then(
      async (res) => ({ status: res.statusCode, decisionId: res.headers['x-omega-decision-id'] as string, body: await res.body.text() }),
      (err: Error) => ({ status: -1, decisionId: undefined, body: err.message }),
    );

  it("a starting replica leaves another's in-flight requests alone; the crashed one recovers its own", async () => {
    const a = await startChildGateway(file, 'gw-a');
    children.push(a);
    // Two requests in flight on A: strict mode committed their decision rows before forwarding.
    const finishing = slowChat(a.url, 20_000);
    expect(await until(async () => (await unfinished('gw-a')).length === 1, 15_000)).toBe(true);
    const [finishingId] = await unfinished('gw-a');
    const crashing = slowChat(a.url, 300_000);
    expect(await until(async () => (await unfinished('gw-a')).length === 2, 15_000)).toBe(true);
    const crashingId = (await unfinished('gw-a')).find((id) => id !== finishingId)!;

    // B starts (running its recovery) while both are in flight: it writes nothing for them.
    const b = await startChildGateway(file, 'gw-b');
    children.push(b);
    expect((await rowsOf(finishingId!)).map((r) => r.kind)).toEqual(['decision']);
    expect((await rowsOf(crashingId)).map((r) => r.kind)).toEqual(['decision']);

    // A finishes the first as usual: exactly one final record, its own.
    const done = await finishing;
    expect(done.status).toBe(200);
    expect(done.decisionId).toBe(finishingId);
    expect(await until(async () => (await rowsOf(finishingId!)).some((r) => r.kind === 'request'), 10_000)).toBe(true);
    const finals = (await rowsOf(finishingId!)).filter((r) => r.kind === 'request');
    expect(finals).toHaveLength(1);
    expect(finals[0]).toMatchObject({ http_status: 200, error_code: null, gateway_instance: 'gw-a' });

    // A dies with the second in flight; B (still running) leaves it to A.
    a.child.kill('SIGKILL');
    await a.stop();
    expect((await crashing).status).toBe(-1);
    expect((await rowsOf(crashingId)).map((r) => r.kind)).toEqual(['decision']);

    // A comes back under its name and records its lost request, once.
    const again = await startChildGateway(file, 'gw-a');
    children.push(again);
    const recovered = (await rowsOf(crashingId)).filter((r) => r.kind === 'request');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ http_status: 0, error_code: 'gateway_restarted', gateway_instance: 'gw-a' });
    expect(await unfinished('gw-a')).toEqual([]);
    expect(await unfinished('gw-b')).toEqual([]);
  });
});
